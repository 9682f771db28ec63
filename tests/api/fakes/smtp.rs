//! A local mail relay that speaks plain SMTP (RFC 5321: EHLO/HELO, MAIL FROM, RCPT TO, DATA
//! with dot-stuffing, RSET, NOOP, QUIT) on loopback, recording every message handed to it.
//! It can fail on demand: refuse connections outright (a relay that is down), or answer a
//! message's end with `451` (a relay that is busy), so that tests see retries.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mail_parser::MessageParser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One message as the relay received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and body), dot-unstuffed.
    pub data: String,
    /// Answered 250 (taken), or 451 while busy.
    pub accepted: bool,
}

impl Mail {
    pub fn message_id(&self) -> String {
        self.parsed(|m| m.message_id().unwrap_or_default().to_owned())
    }

    pub fn subject(&self) -> String {
        self.parsed(|m| m.subject().unwrap_or_default().to_owned())
    }

    /// The text body, decoded from its transfer encoding.
    pub fn text(&self) -> String {
        self.parsed(|m| m.body_text(0).map(|t| t.into_owned()).unwrap_or_default())
    }

    fn parsed<T>(&self, f: impl FnOnce(&mail_parser::Message<'_>) -> T) -> T {
        let message = MessageParser::default()
            .parse(self.data.as_bytes())
            .expect("a well-formed message");
        f(&message)
    }
}

#[derive(Default)]
struct State {
    refusing: AtomicBool,
    busy: AtomicBool,
    mails: Mutex<Vec<Mail>>,
    /// Connections the relay hung up on while refusing.
    refused: Mutex<usize>,
}

/// The relay; cheap to clone.
#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    state: Arc<State>,
}

impl SmtpSink {
    pub async fn spawn() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(State::default());
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = Arc::clone(&shared);
                tokio::spawn(async move {
                    if state.refusing.load(Ordering::SeqCst) {
                        *state.refused.lock().unwrap() += 1;
                        drop(stream);
                        return;
                    }
                    let _ = session(stream, &state).await;
                });
            }
        });
        SmtpSink { port, state }
    }

    /// Hang up on every connection (down) or not.
    pub fn set_refusing(&self, refusing: bool) {
        self.state.refusing.store(refusing, Ordering::SeqCst);
    }

    /// Answer each message's end with 451 (busy) or 250.
    pub fn set_busy(&self, busy: bool) {
        self.state.busy.store(busy, Ordering::SeqCst);
    }

    /// Every message handed over, taken or not.
    pub fn received(&self) -> Vec<Mail> {
        self.state.mails.lock().unwrap().clone()
    }

    /// The messages the relay took (answered 250).
    pub fn accepted(&self) -> Vec<Mail> {
        self.received().into_iter().filter(|m| m.accepted).collect()
    }

    pub fn refused_connections(&self) -> usize {
        *self.state.refused.lock().unwrap()
    }
}

/// The address in `MAIL FROM:<a@b>` or `RCPT TO:<a@b> ...`.
fn path(arg: &str) -> String {
    let start = arg.find('<').map_or(0, |i| i + 1);
    let end = arg[start..].find('>').map_or(arg.len(), |i| start + i);
    arg[start..end].to_owned()
}

async fn session(stream: TcpStream, state: &State) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink.test ESMTP ready\r\n").await?;
    let mut from = String::new();
    let mut to = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end_matches(['\r', '\n']);
        let verb = command
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => {
                b"250-sink.test greets you\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 10485760\r\n"
            }
            "HELO" => b"250 sink.test\r\n",
            "MAIL" => {
                from = path(&command[4..]);
                to.clear();
                b"250 2.1.0 Sender OK\r\n"
            }
            "RCPT" => {
                to.push(path(&command[4..]));
                b"250 2.1.5 Recipient OK\r\n"
            }
            "DATA" if to.is_empty() => b"503 5.5.1 No recipients\r\n",
            "DATA" => {
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    // Dot-stuffing: a leading dot was doubled by the client.
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let accepted = !state.busy.load(Ordering::SeqCst);
                state.mails.lock().unwrap().push(Mail {
                    from: from.clone(),
                    to: std::mem::take(&mut to),
                    data,
                    accepted,
                });
                if accepted {
                    b"250 2.0.0 Ok: queued\r\n"
                } else {
                    b"451 4.3.0 Busy, try again later\r\n"
                }
            }
            "RSET" => {
                to.clear();
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            "STARTTLS" => b"454 4.7.0 TLS not available\r\n",
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}
