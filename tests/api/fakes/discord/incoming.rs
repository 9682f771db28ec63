//! What tests dispatch through the gateway: a message or an interaction, described by who
//! does what where; `FakeDiscord` turns it into the complete Discord object.

use serde_json::Value;

use super::objects::FakeUser;

/// A MESSAGE_CREATE to dispatch: a citizen's direct message or a member's message in a guild
/// channel (a forum post is a thread channel).
#[derive(Clone, Debug)]
pub struct IncomingMessage {
    pub(super) author: FakeUser,
    /// `None`: the author's direct-message channel with the bot.
    pub(super) channel_id: Option<u64>,
    pub(super) content: String,
    pub(super) attachments: Vec<(String, String, u64)>,
}

impl IncomingMessage {
    /// A direct message from `author` to the bot.
    pub fn dm(author: &FakeUser, content: &str) -> Self {
        Self {
            author: author.clone(),
            channel_id: None,
            content: content.to_owned(),
            attachments: Vec::new(),
        }
    }

    /// A message by `author`, a member of the staff server, in one of its channels or threads.
    pub fn in_channel(author: &FakeUser, channel_id: u64, content: &str) -> Self {
        Self {
            channel_id: Some(channel_id),
            ..Self::dm(author, content)
        }
    }

    /// Adds an attachment, hosted on Discord's CDN.
    pub fn attachment(mut self, filename: &str, content_type: &str, size: u64) -> Self {
        self.attachments
            .push((filename.to_owned(), content_type.to_owned(), size));
        self
    }
}

/// An INTERACTION_CREATE to dispatch, by a member of the staff server.
#[derive(Clone, Debug)]
pub struct IncomingInteraction {
    pub(super) by: FakeUser,
    pub(super) kind: InteractionKind,
    /// The channel it happens in; `None` (a command not moved by `in_channel`): the alerts
    /// channel.
    pub(super) channel_id: Option<u64>,
}

#[derive(Clone, Debug)]
pub(super) enum InteractionKind {
    /// On the message `(channel, message)`.
    Button {
        custom_id: String,
        message: (u64, u64),
    },
    StringSelect {
        custom_id: String,
        values: Vec<String>,
        message: (u64, u64),
    },
    Command {
        name: String,
        options: Vec<(String, Value)>,
    },
}

impl IncomingInteraction {
    /// A button press with `custom_id` on the message `message_id` of `channel_id` (a message
    /// the fake holds, usually a forum post's starter message).
    pub fn button(by: &FakeUser, channel_id: u64, message_id: u64, custom_id: &str) -> Self {
        Self {
            by: by.clone(),
            kind: InteractionKind::Button {
                custom_id: custom_id.to_owned(),
                message: (channel_id, message_id),
            },
            channel_id: Some(channel_id),
        }
    }

    /// A string select (`component_type` 3) with `values` chosen.
    pub fn string_select(
        by: &FakeUser,
        channel_id: u64,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Self {
        Self {
            by: by.clone(),
            kind: InteractionKind::StringSelect {
                custom_id: custom_id.to_owned(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
                message: (channel_id, message_id),
            },
            channel_id: Some(channel_id),
        }
    }

    /// A slash command `name` with options given as `(name, value)`: a JSON string is a
    /// string option (type 3), an integer type 4, a boolean type 5, another number type 10.
    /// A command the bot registered (`PUT …/commands`) carries its id; an unknown one gets a
    /// fresh id, as a command removed since but still shown by a stale client would.
    pub fn command(by: &FakeUser, name: &str, options: &[(&str, Value)]) -> Self {
        Self {
            by: by.clone(),
            kind: InteractionKind::Command {
                name: name.to_owned(),
                options: options
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.clone()))
                    .collect(),
            },
            channel_id: None,
        }
    }

    /// Happens in `channel_id` instead.
    pub fn in_channel(mut self, channel_id: u64) -> Self {
        self.channel_id = Some(channel_id);
        self
    }
}
