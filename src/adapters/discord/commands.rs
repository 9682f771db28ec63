//! The staff's side of Discord as values: the guild slash commands' definitions, what an
//! interaction (a command, a button, the category select) asks for as a [`StaffAction`], who
//! may ask it ([`role_of`]), and the text of the ephemeral answers.
//!
//! Pure: no I/O, no clock (`now` is a parameter), no store. It must not answer Discord nor
//! act on a thread: the gateway handler does, after checking [`role_of`] on every
//! interaction (Discord's own permission settings are not relied upon). Command names are
//! English with French localisations; answers are French first, then English, and fit in
//! one message.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use serenity::all::{
    CommandData, CommandDataOptionValue, ComponentInteractionData, ComponentInteractionDataKind,
};

use super::render::{category_label, language_label, neutralise_mentions, timestamp, TimeStyle};
use super::MESSAGE_LIMIT;
use crate::config::DiscordSettings;
use crate::domain::thread::ThreadId;
use crate::domain::{Category, Language};

/// What a member of the staff server asks guichet to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAction {
    /// `/overdue`: the threads past their target.
    Overdue,
    /// `/at-risk`: the threads past their at-risk share.
    AtRisk,
    /// `/thread id`: one thread.
    Thread(String),
    /// `/resolve id`.
    Resolve(String),
    /// `/stats`: the response-time report.
    Stats,
    /// The Claim button of a post.
    Claim(String),
    /// The Resolve button of a post.
    ResolveButton(String),
    /// The category select of a post.
    Recategorise(String, Category),
}

impl StaffAction {
    /// The least role that may ask it: reports are for coordinators, the rest for agents.
    pub fn required_role(&self) -> StaffRole {
        match self {
            StaffAction::Stats => StaffRole::Coordinator,
            _ => StaffRole::Agent,
        }
    }

    /// The thread it is about, if any.
    pub fn reference(&self) -> Option<&str> {
        match self {
            StaffAction::Thread(r)
            | StaffAction::Resolve(r)
            | StaffAction::Claim(r)
            | StaffAction::ResolveButton(r)
            | StaffAction::Recategorise(r, _) => Some(r),
            StaffAction::Overdue | StaffAction::AtRisk | StaffAction::Stats => None,
        }
    }
}

/// A member's standing on the staff server; a coordinator may do all an agent may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaffRole {
    Agent,
    Coordinator,
}

impl StaffRole {
    /// Whether a member with this role may ask `action`.
    pub fn may(self, action: &StaffAction) -> bool {
        self >= action.required_role()
    }
}

/// The member's staff role, from the ids of their roles: coordinator first, then agent; none
/// for anyone else. A role id of 0 (unset) matches nobody.
pub fn role_of(member_role_ids: &[u64], settings: &DiscordSettings) -> Option<StaffRole> {
    let has = |id: u64| id != 0 && member_role_ids.contains(&id);
    if has(settings.coordinator_role_id) {
        Some(StaffRole::Coordinator)
    } else if has(settings.agent_role_id) {
        Some(StaffRole::Agent)
    } else {
        None
    }
}

/// The components of a post and their custom ids, `guichet:<action>:<reference>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentAction {
    Claim,
    Resolve,
    Category,
}

/// The first part of every custom id guichet sets, so that other bots' components are told
/// apart.
const CUSTOM_ID_PREFIX: &str = "guichet";

impl ComponentAction {
    const ALL: [ComponentAction; 3] = [
        ComponentAction::Claim,
        ComponentAction::Resolve,
        ComponentAction::Category,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentAction::Claim => "claim",
            ComponentAction::Resolve => "resolve",
            ComponentAction::Category => "category",
        }
    }

    /// `guichet:claim:G-000042`.
    pub fn custom_id(self, reference: &str) -> String {
        format!("{CUSTOM_ID_PREFIX}:{}:{reference}", self.as_str())
    }
}

/// Why an interaction could not be read as a staff action.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    #[error("unknown command /{0}")]
    UnknownCommand(String),
    #[error("the command /{0} needs a thread reference")]
    MissingReference(String),
    #[error("\"{0}\" is not a thread reference such as G-000042")]
    BadReference(String),
    #[error("unknown component \"{0}\"")]
    UnknownComponent(String),
    #[error("\"{0}\" is not a category (urgent, info or complaint)")]
    BadCategory(String),
    #[error("{0}")]
    Failed(String),
}

/// The slash commands, as the body of the bulk overwrite
/// `PUT /applications/{app}/guilds/{guild}/commands` (idempotent: the same body leaves the
/// same commands). Guild-only, chat-input commands; English names, French localisations.
pub fn definitions() -> Value {
    let id = json!({
        "type": 3,
        "name": "id",
        "name_localizations": { "fr": "numero" },
        "description": "The thread's reference, such as G-000042",
        "description_localizations": { "fr": "La référence du fil, comme G-000042" },
        "required": true,
        "min_length": 1,
        "max_length": 20,
    });
    json!([
        command(
            ("overdue", "en-retard"),
            "Threads past their response target",
            "Les fils dont l'échéance est dépassée",
            None,
        ),
        command(
            ("at-risk", "a-risque"),
            "Threads close to their response target",
            "Les fils dont l'échéance approche",
            None,
        ),
        command(
            ("thread", "fil"),
            "Show a thread",
            "Afficher un fil",
            Some(&id),
        ),
        command(
            ("resolve", "resoudre"),
            "Resolve a thread",
            "Résoudre un fil",
            Some(&id),
        ),
        command(
            ("stats", "statistiques"),
            "Response-time statistics",
            "Les statistiques des délais de réponse",
            None,
        ),
    ])
}

fn command(
    (name, name_fr): (&str, &str),
    description: &str,
    description_fr: &str,
    option: Option<&Value>,
) -> Value {
    json!({
        "type": 1,
        "name": name,
        "name_localizations": { "fr": name_fr },
        "description": description,
        "description_localizations": { "fr": description_fr },
        "options": option.into_iter().collect::<Vec<_>>(),
        "dm_permission": false,
        "contexts": [0],
    })
}

/// A slash command by its (English) name and its `id` option.
///
/// # Errors
/// An unknown command, a missing or malformed reference.
pub fn parse_command(name: &str, id: Option<&str>) -> Result<StaffAction, ActionError> {
    let reference = || -> Result<String, ActionError> {
        let raw = id
            .filter(|r| !r.trim().is_empty())
            .ok_or_else(|| ActionError::MissingReference(name.to_owned()))?;
        parse_reference(raw)
    };
    match name {
        "overdue" => Ok(StaffAction::Overdue),
        "at-risk" => Ok(StaffAction::AtRisk),
        "thread" => Ok(StaffAction::Thread(reference()?)),
        "resolve" => Ok(StaffAction::Resolve(reference()?)),
        "stats" => Ok(StaffAction::Stats),
        other => Err(ActionError::UnknownCommand(short(other))),
    }
}

/// A component of a post by its custom id, with the select's chosen values.
///
/// # Errors
/// A custom id guichet did not set, a malformed reference, a value that is not a category.
pub fn parse_component(custom_id: &str, values: &[String]) -> Result<StaffAction, ActionError> {
    let unknown = || ActionError::UnknownComponent(short(custom_id));
    let mut parts = custom_id.splitn(3, ':');
    if parts.next() != Some(CUSTOM_ID_PREFIX) {
        return Err(unknown());
    }
    let action = parts
        .next()
        .and_then(|a| ComponentAction::ALL.into_iter().find(|c| c.as_str() == a))
        .ok_or_else(unknown)?;
    let reference = parse_reference(parts.next().ok_or_else(unknown)?)?;
    Ok(match action {
        ComponentAction::Claim => StaffAction::Claim(reference),
        ComponentAction::Resolve => StaffAction::ResolveButton(reference),
        ComponentAction::Category => {
            let value = values.first().map(String::as_str).unwrap_or_default();
            let category = value
                .parse::<Category>()
                .map_err(|_| ActionError::BadCategory(short(value)))?;
            StaffAction::Recategorise(reference, category)
        }
    })
}

/// A slash command interaction's data, as serenity gives it.
///
/// # Errors
/// As [`parse_command`].
pub fn from_command(data: &CommandData) -> Result<StaffAction, ActionError> {
    let id = data
        .options
        .iter()
        .find(|o| o.name == "id")
        .and_then(|o| match &o.value {
            CommandDataOptionValue::String(s) => Some(s.clone()),
            CommandDataOptionValue::Integer(n) => Some(n.to_string()),
            _ => None,
        });
    parse_command(&data.name, id.as_deref())
}

/// A component interaction's data (a button or the category select), as serenity gives it.
///
/// # Errors
/// As [`parse_component`].
pub fn from_component(data: &ComponentInteractionData) -> Result<StaffAction, ActionError> {
    let values = match &data.kind {
        ComponentInteractionDataKind::StringSelect { values } => values.as_slice(),
        _ => &[],
    };
    parse_component(&data.custom_id, values)
}

fn parse_reference(raw: &str) -> Result<String, ActionError> {
    ThreadId::parse(raw)
        .map(|id| id.to_string())
        .map_err(|_| ActionError::BadReference(short(raw.trim())))
}

fn short(text: &str) -> String {
    text.chars().take(40).collect()
}

// ---- Answers -------------------------------------------------------------------------------

/// A thread in a list of overdue or at-risk threads.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub reference: String,
    pub category: Category,
    pub due_at: DateTime<Utc>,
    /// The thread's forum post, when it has one.
    pub post_link: Option<String>,
}

/// One thread, as `/thread` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ThreadSummary {
    pub reference: String,
    pub category: Category,
    /// `open`, `at_risk`, `overdue`, `answered`, `resolved` (shown in both languages), or any
    /// other word, shown as is.
    pub state: String,
    pub language: Language,
    pub channel: String,
    pub opened_at: DateTime<Utc>,
    /// When the next answer is due; none once answered or resolved.
    pub due_at: Option<DateTime<Utc>>,
    pub messages: u32,
    /// The agent who claimed it.
    pub claimed_by: Option<String>,
    pub post_link: Option<String>,
}

/// The response-time report `/stats` shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Stats {
    pub open: u64,
    pub at_risk: u64,
    pub overdue: u64,
    /// First answers given in time, and late.
    pub met: u64,
    pub missed: u64,
    pub first_response_median_minutes: Option<u64>,
    pub categories: Vec<CategoryStats>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct CategoryStats {
    pub category: Category,
    pub open: u64,
    pub overdue: u64,
    pub met: u64,
    pub missed: u64,
}

/// `/overdue`: the threads past their target, with how late each is; as many as fit, then
/// how many more.
pub fn overdue_answer(rows: &[Row], now: DateTime<Utc>) -> String {
    list(
        "**En retard / Overdue**",
        "Aucun fil en retard. / No overdue thread.",
        rows,
        |row| {
            format!(
                "en retard de / late by {} · échéance / due {}",
                span(now - row.due_at),
                timestamp(row.due_at, TimeStyle::Full)
            )
        },
    )
}

/// `/at-risk`: the threads close to their target, with the time left.
pub fn at_risk_answer(rows: &[Row], now: DateTime<Utc>) -> String {
    list(
        "**À risque / At risk**",
        "Aucun fil à risque. / No thread at risk.",
        rows,
        |row| {
            format!(
                "reste / left {} · échéance / due {}",
                span(row.due_at - now),
                timestamp(row.due_at, TimeStyle::Full)
            )
        },
    )
}

fn list(title: &str, empty: &str, rows: &[Row], detail: impl Fn(&Row) -> String) -> String {
    if rows.is_empty() {
        return empty.to_owned();
    }
    let mut text = format!("{title} — {}", rows.len());
    for (shown, row) in rows.iter().enumerate() {
        let mut line = format!(
            "\n• **{}** · {} · {}",
            row.reference,
            category_label(row.category),
            detail(row)
        );
        if let Some(link) = &row.post_link {
            line.push_str(" · ");
            line.push_str(link);
        }
        let left = rows.len() - shown - 1;
        let tail = if left == 0 {
            0
        } else {
            more(left).chars().count()
        };
        if text.chars().count() + line.chars().count() + tail > MESSAGE_LIMIT {
            text.push_str(&more(rows.len() - shown));
            return text;
        }
        text.push_str(&line);
    }
    text
}

fn more(count: usize) -> String {
    format!("\n… et {count} autres / and {count} more")
}

/// `/thread id`: one thread.
pub fn thread_answer(thread: &ThreadSummary) -> String {
    let mut lines = vec![
        format!(
            "**{}** · {} · {}",
            thread.reference,
            category_label(thread.category),
            state_label(&thread.state)
        ),
        format!(
            "**Canal / Channel :** {} · **Langue / Language :** {} · **Messages :** {}",
            neutralise_mentions(&thread.channel),
            language_label(thread.language),
            thread.messages
        ),
        format!(
            "**Ouvert / Opened :** {}",
            timestamp(thread.opened_at, TimeStyle::Full)
        ),
    ];
    if let Some(due) = thread.due_at {
        lines.push(format!(
            "**Échéance / Due :** {} ({})",
            timestamp(due, TimeStyle::Relative),
            timestamp(due, TimeStyle::Full)
        ));
    }
    lines.push(match &thread.claimed_by {
        Some(agent) => format!(
            "**Réclamé par / Claimed by :** {}",
            neutralise_mentions(agent)
        ),
        None => "**Réclamé par / Claimed by :** personne / nobody".to_owned(),
    });
    if let Some(link) = &thread.post_link {
        lines.push(link.clone());
    }
    truncate(&lines.join("\n"))
}

fn state_label(state: &str) -> String {
    match state {
        "open" => "ouvert / open".to_owned(),
        "at_risk" => "à risque / at risk".to_owned(),
        "overdue" => "en retard / overdue".to_owned(),
        "answered" => "répondu / answered".to_owned(),
        "resolved" => "résolu / resolved".to_owned(),
        other => other.chars().take(40).collect(),
    }
}

/// `/stats`: the report.
pub fn stats_answer(stats: &Stats) -> String {
    let mut lines = vec![
        "**Statistiques / Statistics**".to_owned(),
        format!(
            "Ouverts / Open : {} · À risque / At risk : {} · En retard / Overdue : {}",
            stats.open, stats.at_risk, stats.overdue
        ),
        format!(
            "Respect des délais / Compliance : {} (à temps / met {}, en retard / missed {})",
            compliance(stats.met, stats.missed),
            stats.met,
            stats.missed
        ),
        format!(
            "Médiane de première réponse / Median first response : {}",
            stats
                .first_response_median_minutes
                .map_or_else(|| "—".to_owned(), |m| span(Duration::minutes(m as i64)))
        ),
    ];
    for c in &stats.categories {
        lines.push(format!(
            "• {} — ouverts / open {} · en retard / overdue {} · respect / compliance {}",
            category_label(c.category),
            c.open,
            c.overdue,
            compliance(c.met, c.missed)
        ));
    }
    truncate(&lines.join("\n"))
}

/// met / (met + missed), one decimal; a dash before any answer.
fn compliance(met: u64, missed: u64) -> String {
    let answered = met + missed;
    if answered == 0 {
        return "—".to_owned();
    }
    format!("{:.1} %", met as f64 * 100.0 / answered as f64)
}

/// Claim pressed: who holds the thread now.
pub fn claimed_answer(reference: &str, agent: &str) -> String {
    let agent = neutralise_mentions(agent);
    format!("**{reference}** est réclamé par {agent}. / **{reference}** is claimed by {agent}.")
}

/// A thread resolved by `/resolve` or the Resolve button.
pub fn resolved_answer(reference: &str) -> String {
    format!("**{reference}** est résolu. / **{reference}** is resolved.")
}

/// A category changed by the select: the clock is re-planned.
pub fn recategorised_answer(reference: &str, from: Category, to: Category) -> String {
    format!(
        "**{reference}** : {} → {}. L'échéance est recalculée. / The due time is recomputed.",
        category_label(from),
        category_label(to)
    )
}

/// No thread has this reference.
pub fn unknown_thread_answer(reference: &str) -> String {
    let reference = neutralise_mentions(&short(reference));
    format!("Aucun fil {reference}. / No thread {reference}.")
}

/// The member has neither the agent nor the coordinator role (or not the one it takes).
pub fn refused_answer(required: StaffRole) -> String {
    match required {
        StaffRole::Agent => {
            "Réservé aux agents et à la coordination. / Only agents and coordinators may do this."
                .to_owned()
        }
        StaffRole::Coordinator => {
            "Réservé à la coordination. / Only coordinators may do this.".to_owned()
        }
    }
}

/// An interaction guichet could not read.
pub fn error_answer(error: &ActionError) -> String {
    let text = match error {
        ActionError::UnknownCommand(name) => {
            format!("Commande inconnue /{name}. / Unknown command /{name}.")
        }
        ActionError::MissingReference(name) => format!(
            "/{name} demande une référence de fil, comme G-000042. / /{name} needs a thread reference, such as G-000042."
        ),
        ActionError::BadReference(raw) => format!(
            "« {raw} » n'est pas une référence de fil comme G-000042. / \"{raw}\" is not a thread reference such as G-000042."
        ),
        ActionError::Failed(_) => {
            "guichet n'a pas pu le faire ; réessayez dans un moment. / guichet could not do it; try again in a moment.".to_owned()
        }
        ActionError::UnknownComponent(_) => {
            "Ce bouton n'est plus reconnu. / This button is no longer recognised.".to_owned()
        }
        ActionError::BadCategory(value) => format!(
            "« {value} » n'est pas une catégorie. / \"{value}\" is not a category."
        ),
    };
    neutralise_mentions(&text)
}

/// A duration as staff read it in both languages: `45 min`, `3 h 05 min`; never negative.
fn span(duration: Duration) -> String {
    let minutes = duration.num_minutes().max(0);
    if minutes < 60 {
        format!("{minutes} min")
    } else {
        format!("{} h {:02} min", minutes / 60, minutes % 60)
    }
}

fn truncate(text: &str) -> String {
    if text.chars().count() <= MESSAGE_LIMIT {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MESSAGE_LIMIT - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn settings() -> DiscordSettings {
        DiscordSettings {
            agent_role_id: 10,
            coordinator_role_id: 20,
            ..DiscordSettings::default()
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 15, 0, 0).unwrap()
    }

    fn is_valid_command_name(name: &str) -> bool {
        (1..=32).contains(&name.chars().count())
            && name
                .chars()
                .all(|c| c == '-' || c == '_' || c.is_alphanumeric())
            && name.to_lowercase() == name
    }

    #[test]
    fn the_five_commands_are_guild_only_chat_commands_with_valid_french_names() {
        let defs = definitions();
        let list = defs.as_array().unwrap();
        let names: Vec<&str> = list.iter().map(|c| c["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["overdue", "at-risk", "thread", "resolve", "stats"]);
        for c in list {
            assert_eq!(c["type"], 1);
            assert_eq!(c["dm_permission"], false);
            assert_eq!(c["contexts"], json!([0]));
            let fr = c["name_localizations"]["fr"].as_str().unwrap();
            assert!(is_valid_command_name(fr), "{fr}");
            assert!(is_valid_command_name(c["name"].as_str().unwrap()));
            for d in [&c["description"], &c["description_localizations"]["fr"]] {
                let d = d.as_str().unwrap();
                assert!((1..=100).contains(&d.chars().count()), "{d}");
            }
            for o in c["options"].as_array().unwrap() {
                assert!(is_valid_command_name(o["name"].as_str().unwrap()));
                assert!(is_valid_command_name(
                    o["name_localizations"]["fr"].as_str().unwrap()
                ));
            }
        }
        assert_eq!(list[2]["options"][0]["name"], "id");
        assert_eq!(list[2]["options"][0]["required"], true);
        assert_eq!(list[3]["options"][0]["type"], 3);
        assert_eq!(list[1]["name_localizations"]["fr"], "a-risque");
        assert!(!is_valid_command_name("à risque"));
    }

    #[test]
    fn commands_are_read_with_their_reference_normalised() {
        assert_eq!(parse_command("overdue", None), Ok(StaffAction::Overdue));
        assert_eq!(parse_command("at-risk", None), Ok(StaffAction::AtRisk));
        assert_eq!(parse_command("stats", None), Ok(StaffAction::Stats));
        assert_eq!(
            parse_command("thread", Some("42")),
            Ok(StaffAction::Thread("G-000042".into()))
        );
        assert_eq!(
            parse_command("resolve", Some(" g-7 ")),
            Ok(StaffAction::Resolve("G-000007".into()))
        );
        assert_eq!(
            parse_command("resolve", None),
            Err(ActionError::MissingReference("resolve".into()))
        );
        assert_eq!(
            parse_command("thread", Some("@everyone")),
            Err(ActionError::BadReference("@everyone".into()))
        );
        assert!(matches!(
            parse_command("ban", None),
            Err(ActionError::UnknownCommand(_))
        ));
    }

    #[test]
    fn buttons_and_the_select_are_read_from_their_custom_ids() {
        assert_eq!(
            parse_component("guichet:claim:G-000042", &[]),
            Ok(StaffAction::Claim("G-000042".into()))
        );
        assert_eq!(
            parse_component("guichet:resolve:G-000042", &[]),
            Ok(StaffAction::ResolveButton("G-000042".into()))
        );
        assert_eq!(
            parse_component("guichet:category:G-000042", &["complaint".to_owned()]),
            Ok(StaffAction::Recategorise(
                "G-000042".into(),
                Category::Complaint
            ))
        );
        assert!(matches!(
            parse_component("guichet:category:G-000042", &[]),
            Err(ActionError::BadCategory(_))
        ));
        for foreign in [
            "other:claim:G-000042",
            "guichet:delete:G-000042",
            "guichet:claim",
        ] {
            assert!(
                matches!(
                    parse_component(foreign, &[]),
                    Err(ActionError::UnknownComponent(_))
                ),
                "{foreign}"
            );
        }
        let id = ComponentAction::Resolve.custom_id("G-000042");
        assert_eq!(
            parse_component(&id, &[]),
            Ok(StaffAction::ResolveButton("G-000042".into()))
        );
    }

    #[test]
    fn serenitys_interaction_data_is_read_without_a_gateway() {
        let command: CommandData = serde_json::from_value(json!({
            "id": "1", "name": "thread", "type": 1,
            "options": [{ "name": "id", "type": 3, "value": "G-000042" }],
        }))
        .unwrap();
        assert_eq!(
            from_command(&command),
            Ok(StaffAction::Thread("G-000042".into()))
        );
        let select: ComponentInteractionData = serde_json::from_value(json!({
            "custom_id": "guichet:category:G-000042", "component_type": 3, "values": ["urgent"],
        }))
        .unwrap();
        assert_eq!(
            from_component(&select),
            Ok(StaffAction::Recategorise(
                "G-000042".into(),
                Category::Urgent
            ))
        );
        let button: ComponentInteractionData = serde_json::from_value(json!({
            "custom_id": "guichet:claim:G-000042", "component_type": 2,
        }))
        .unwrap();
        assert_eq!(
            from_component(&button),
            Ok(StaffAction::Claim("G-000042".into()))
        );
    }

    #[test]
    fn only_agents_and_coordinators_have_a_staff_role_and_reports_are_for_coordinators() {
        let s = settings();
        assert_eq!(role_of(&[10], &s), Some(StaffRole::Agent));
        assert_eq!(role_of(&[10, 20], &s), Some(StaffRole::Coordinator));
        assert_eq!(role_of(&[30], &s), None);
        assert_eq!(role_of(&[], &s), None);
        assert_eq!(
            role_of(&[0], &DiscordSettings::default()),
            None,
            "an unset role matches nobody"
        );
        assert!(StaffRole::Agent.may(&StaffAction::ResolveButton("G-000001".into())));
        assert!(StaffRole::Agent.may(&StaffAction::Overdue));
        assert!(!StaffRole::Agent.may(&StaffAction::Stats));
        assert!(StaffRole::Coordinator.may(&StaffAction::Stats));
    }

    fn row(n: u64, due: DateTime<Utc>) -> Row {
        Row {
            reference: ThreadId::new(n).to_string(),
            category: Category::Complaint,
            due_at: due,
            post_link: Some(format!("https://discord.com/channels/1/{n}")),
        }
    }

    #[test]
    fn the_overdue_list_says_how_late_each_thread_is() {
        let rows = vec![row(42, now() - Duration::minutes(185))];
        let text = overdue_answer(&rows, now());
        assert!(text.starts_with("**En retard / Overdue** — 1"), "{text}");
        assert!(
            text.contains("**G-000042** · plainte / complaint"),
            "{text}"
        );
        assert!(text.contains("late by 3 h 05 min"), "{text}");
        assert!(text.contains("https://discord.com/channels/1/42"), "{text}");
        assert_eq!(
            overdue_answer(&[], now()),
            "Aucun fil en retard. / No overdue thread."
        );
    }

    #[test]
    fn the_at_risk_list_says_how_long_is_left() {
        let rows = vec![row(7, now() + Duration::minutes(45))];
        let text = at_risk_answer(&rows, now());
        assert!(text.contains("reste / left 45 min"), "{text}");
        assert!(at_risk_answer(&[], now()).contains("No thread at risk"));
    }

    #[test]
    fn a_long_list_fits_in_one_message_and_says_how_many_more() {
        let rows: Vec<Row> = (1..=200)
            .map(|n| row(n, now() - Duration::hours(2)))
            .collect();
        let text = overdue_answer(&rows, now());
        assert!(text.chars().count() <= MESSAGE_LIMIT, "{}", text.len());
        let shown = text.matches("\n• ").count();
        assert!(shown > 5);
        assert!(
            text.ends_with(&format!("… et {0} autres / and {0} more", 200 - shown)),
            "{text}"
        );
    }

    #[test]
    fn a_thread_and_the_stats_read_in_both_languages() {
        let thread = ThreadSummary {
            reference: "G-000042".into(),
            category: Category::Urgent,
            state: "overdue".into(),
            language: Language::En,
            channel: "discord".into(),
            opened_at: now() - Duration::hours(2),
            due_at: Some(now() - Duration::hours(1)),
            messages: 3,
            claimed_by: Some("Luc @everyone".into()),
            post_link: None,
        };
        let text = thread_answer(&thread);
        assert!(text.contains("en retard / overdue"), "{text}");
        assert!(text.contains("anglais / English"), "{text}");
        assert!(
            text.contains("Claimed by :** Luc @\u{200B}everyone"),
            "{text}"
        );
        let stats = Stats {
            open: 5,
            at_risk: 1,
            overdue: 2,
            met: 11,
            missed: 1,
            first_response_median_minutes: Some(125),
            categories: vec![CategoryStats {
                category: Category::Info,
                open: 3,
                overdue: 0,
                met: 0,
                missed: 0,
            }],
        };
        let text = stats_answer(&stats);
        assert!(text.contains("Compliance : 91.7 %"), "{text}");
        assert!(text.contains("2 h 05 min"), "{text}");
        assert!(
            text.contains("• information / info — ouverts / open 3"),
            "{text}"
        );
        assert!(text.contains("compliance —"), "{text}");
    }

    #[test]
    fn refusals_and_errors_are_answered_in_both_languages() {
        assert!(refused_answer(StaffRole::Agent).contains("Only agents and coordinators"));
        assert!(refused_answer(StaffRole::Coordinator).contains("Only coordinators"));
        let e = error_answer(&ActionError::BadReference("<@&1>".into()));
        assert!(
            e.contains("not a thread reference") && !e.contains("<@&"),
            "{e}"
        );
        assert!(resolved_answer("G-000001").contains("is resolved"));
        assert!(claimed_answer("G-000001", "Luc").contains("claimed by Luc"));
        assert!(
            recategorised_answer("G-000001", Category::Info, Category::Urgent)
                .contains("information / info → urgence / urgent")
        );
        assert!(unknown_thread_answer("G-000404").contains("No thread G-000404"));
    }
}
