//! A full disk, with the real binary on a small tmpfs: guichet says it is unhealthy, refuses
//! messages with 503 and `Retry-After`, exits non-zero for its supervisor, and once
//! restarted with room on the disk, has lost nothing it answered 200.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::{send, serve, Served, TOKEN};

/// A tmpfs mounted for the test, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    /// `None`, with the reason printed, where this machine does not let the test mount.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?.keep();
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .status();
        match status {
            Ok(s) if s.success() => Some(Tmpfs(dir)),
            other => {
                eprintln!(
                    "skipped: a tmpfs cannot be mounted here ({other:?}); the disk-full test needs root and mount(8)"
                );
                None
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// Fills the file system that holds `dir` to the last byte.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let block = vec![0u8; 64 * 1024];
    while file.write_all(&block).is_ok() {}
    let small = vec![0u8; 512];
    while file.write_all(&small).is_ok() {}
    let _ = file.sync_all();
    path
}

fn wait_exit(served: &mut Served, within: Duration) -> Option<std::process::ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Ok(Some(status)) = served.child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

#[tokio::test]
async fn a_full_disk_turns_guichet_unhealthy_then_it_exits_and_restarts_losing_nothing() {
    let Some(tmpfs) = Tmpfs::mount("16m") else {
        return;
    };
    let data = tmpfs.0.join("store");
    let client = reqwest::Client::new();
    let mut served = serve(&data);
    let filler = fill(&tmpfs.0);

    let mut accepted: Vec<String> = Vec::new();
    let mut refusal = None;
    let text =
        "Le trottoir devant le 12 rue des Érables est brisé depuis des semaines. ".repeat(50);
    for i in 0..5_000 {
        let body = json!({ "sender": format!("disk-{i}"), "text": text });
        let r = client
            .post(served.url("/api/messages"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let retry_after = r.headers().get("retry-after").cloned();
        let answer: Value = r.json().await.unwrap_or_default();
        if status == 200 {
            accepted.push(answer["thread_id"].as_str().unwrap().to_owned());
        } else {
            refusal = Some((status, retry_after, answer));
            break;
        }
    }
    let (status, retry_after, answer) = refusal.expect("the disk fills up");
    assert_eq!(status, 503, "{answer}");
    assert!(retry_after.is_some(), "503 says when to come back");
    assert!(answer["error"].as_str().unwrap().contains("cannot store"));

    let (health, reason) = send(client.get(served.url("/healthz"))).await;
    assert_eq!(health, 503, "{reason}");
    assert_eq!(reason["status"], "unhealthy");
    assert!(reason["reason"].as_str().unwrap().len() > 10, "{reason}");

    let exit = wait_exit(&mut served, Duration::from_secs(30)).expect("guichet exits");
    assert!(
        !exit.success(),
        "a non-zero exit tells the supervisor to restart it"
    );
    drop(served);

    std::fs::remove_file(filler).unwrap();
    let restarted = serve(&data);
    let (health, _) = send(client.get(restarted.url("/healthz"))).await;
    assert_eq!(health, 200);
    for id in &accepted {
        let (status, thread) = send(
            client
                .get(restarted.url(&format!("/api/threads/{id}")))
                .bearer_auth(TOKEN),
        )
        .await;
        assert_eq!(
            status, 200,
            "{id} answered 200 before the disk filled: {thread}"
        );
    }
    let body = json!({ "sender": "after", "text": "Est-ce que la piscine est ouverte?" });
    let (status, _) = send(client.post(restarted.url("/api/messages")).json(&body)).await;
    assert_eq!(status, 200, "intake is back");
    drop(restarted);
    drop(tmpfs);
}

#[tokio::test]
async fn sigterm_drains_and_exits_zero_within_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let mut served = serve(dir.path());
    let client = reqwest::Client::new();
    let body = json!({ "sender": "t-1", "text": "Quand passe la collecte des encombrants?" });
    let (status, _) = send(client.post(served.url("/api/messages")).json(&body)).await;
    assert_eq!(status, 200);
    // A kept-alive idle connection must not hold the shutdown back.
    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let exit = wait_exit(&mut served, Duration::from_secs(10)).expect("guichet stops");
    assert!(exit.success(), "SIGTERM is a clean stop: {exit:?}");
    assert!(started.elapsed() < Duration::from_secs(8));
}
