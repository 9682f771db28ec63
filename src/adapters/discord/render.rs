//! What guichet shows the staff server, as values: the forum post of a forwarded thread, a
//! later citizen message appended to it, and the alerts of the alerts channel.
//!
//! Pure: no I/O, no clock (times come in the views), no settings beyond the values given.
//! It must not send anything; the courier does. Every citizen word that passes through here
//! is quoted with its mentions neutralised (`@everyone`, `<@&id>`… show as text) and its
//! markdown escaped, so that a citizen can neither ping staff nor break out of the quote.
//! Labels are French first, then English.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::commands::ComponentAction;
use super::{no_pings, MESSAGE_LIMIT, TITLE_LIMIT};
use crate::domain::{Category, Language};

/// What the staff see of a citizen's message on a forwarded thread.
#[derive(Debug, Clone, PartialEq)]
pub struct PostView {
    /// The thread's reference, `G-000042`.
    pub reference: String,
    pub category: Category,
    pub language: Language,
    /// The classifier's confidence, 0 to 1.
    pub confidence: f32,
    pub reasons: Vec<String>,
    /// The agents' copy of the text: insults masked.
    pub masked_text: String,
    /// When the city's answer is due.
    pub due_at: DateTime<Utc>,
    /// The citizen's channel (`discord`, `web`, …).
    pub channel: String,
    pub needs_triage: bool,
    pub abusive: bool,
}

/// A forum post ready to send: `POST /channels/{forum}/threads`.
#[derive(Debug, Clone, PartialEq)]
pub struct PostSpec {
    /// The thread's reference, which starts the title (how a post is found again).
    pub reference: String,
    /// At most [`TITLE_LIMIT`] characters.
    pub title: String,
    /// The starter message, at most [`MESSAGE_LIMIT`] characters.
    pub content: String,
    /// The forum tag to apply.
    pub tag: Category,
    /// Action rows: Claim and Resolve buttons, the category select.
    pub components: Value,
    pub allowed_mentions: Value,
}

/// Which alert: a thread past its at-risk share, or past its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertLevel {
    AtRisk,
    Overdue,
}

/// How a Discord timestamp is shown (`<t:UNIX:R>`: "in 2 hours"; `f`: the date and time),
/// in each reader's own language and time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    Relative,
    Full,
}

/// A Discord timestamp markup for `at`.
pub fn timestamp(at: DateTime<Utc>, style: TimeStyle) -> String {
    let letter = match style {
        TimeStyle::Relative => 'R',
        TimeStyle::Full => 'f',
    };
    format!("<t:{}:{letter}>", at.timestamp())
}

/// A category as staff read it, French first.
pub fn category_label(category: Category) -> &'static str {
    match category {
        Category::Urgent => "urgence / urgent",
        Category::Info => "information / info",
        Category::Complaint => "plainte / complaint",
    }
}

/// A language as staff read it, French first.
pub fn language_label(language: Language) -> &'static str {
    match language {
        Language::Fr => "français / French",
        Language::En => "anglais / English",
    }
}

/// The forum post of a forwarded thread.
pub fn post(view: &PostView) -> PostSpec {
    let header = format!(
        "**{}** · **{}** · {}",
        view.reference,
        category_label(view.category),
        one_line(&view.channel, 40)
    );
    let fields = fields(view);
    // Two newlines join the header, the quote and the fields.
    let budget = MESSAGE_LIMIT.saturating_sub(chars(&header) + chars(&fields) + 2);
    let content = format!(
        "{header}\n{}\n{fields}",
        fit_quote(&view.masked_text, budget)
    );
    PostSpec {
        reference: view.reference.clone(),
        title: title(view),
        content,
        tag: view.category,
        components: components(&view.reference, view.category),
        allowed_mentions: no_pings(),
    }
}

/// A later citizen message on a thread that has a post, as appended to it.
pub fn appended(view: &PostView) -> String {
    let header = format!(
        "**{}** · nouveau message du citoyen / new message from the citizen",
        view.reference
    );
    let mut footer = format!(
        "**Catégorie / Category :** {} · **Langue / Language :** {} · **Échéance / Due :** {}",
        category_label(view.category),
        language_label(view.language),
        timestamp(view.due_at, TimeStyle::Relative)
    );
    for flag in flags(view) {
        footer.push('\n');
        footer.push_str(flag);
    }
    let budget = MESSAGE_LIMIT.saturating_sub(chars(&header) + chars(&footer) + 2);
    format!(
        "{header}\n{}\n{footer}",
        fit_quote(&view.masked_text, budget)
    )
}

/// An alert for the alerts channel: its content and its `allowed_mentions`. An overdue alert
/// pings the coordinator role, by id and nothing else; an at-risk alert pings nobody, nor does
/// any alert when `coordinator_role_id` is 0 (unset).
pub fn alert(
    level: AlertLevel,
    reference: &str,
    category: Category,
    due_at: DateTime<Utc>,
    post_link: Option<&str>,
    coordinator_role_id: u64,
) -> (String, Value) {
    let due = format!(
        "{} ({})",
        timestamp(due_at, TimeStyle::Relative),
        timestamp(due_at, TimeStyle::Full)
    );
    let (mut content, mentions) = match level {
        AlertLevel::Overdue if coordinator_role_id != 0 => (
            format!(
                "<@&{coordinator_role_id}> 🔴 **En retard / Overdue** — **{reference}** · {} — échéance dépassée / was due {due}",
                category_label(category)
            ),
            json!({ "parse": [], "roles": [coordinator_role_id.to_string()] }),
        ),
        AlertLevel::Overdue => (
            format!(
                "🔴 **En retard / Overdue** — **{reference}** · {} — échéance dépassée / was due {due}",
                category_label(category)
            ),
            no_pings(),
        ),
        AlertLevel::AtRisk => (
            format!(
                "🟠 **À risque / At risk** — **{reference}** · {} — échéance / due {due}",
                category_label(category)
            ),
            no_pings(),
        ),
    };
    if let Some(link) = post_link {
        content.push('\n');
        content.push_str(link);
    }
    (content, mentions)
}

/// The post's title: the reference, the category and the first words of the masked text,
/// at most [`TITLE_LIMIT`] characters.
pub fn title(view: &PostView) -> String {
    let head = format!("{} · {}", view.reference, view.category.as_str());
    let text = neutralise_mentions(&one_line(&view.masked_text, usize::MAX));
    if text.is_empty() {
        return truncate_chars(&head, TITLE_LIMIT);
    }
    // Room for " · ", the words and "…"; a title is read in a list, so keep it short.
    let room = TITLE_LIMIT.saturating_sub(chars(&head) + 4).clamp(1, 60);
    format!("{head} · {}", first_words(&text, room))
}

/// The post's components: Claim and Resolve buttons, then a select to change the category,
/// the current one chosen. Their custom ids carry the reference (see [`ComponentAction`]).
pub fn components(reference: &str, current: Category) -> Value {
    let options: Vec<Value> = Category::ALL
        .iter()
        .map(|c| {
            json!({
                "label": select_label(*c),
                "value": c.as_str(),
                "default": *c == current,
            })
        })
        .collect();
    json!([
        {
            "type": 1,
            "components": [
                {
                    "type": 2,
                    "style": 1,
                    "label": "Réclamer / Claim",
                    "custom_id": ComponentAction::Claim.custom_id(reference),
                },
                {
                    "type": 2,
                    "style": 3,
                    "label": "Résoudre / Resolve",
                    "custom_id": ComponentAction::Resolve.custom_id(reference),
                },
            ],
        },
        {
            "type": 1,
            "components": [
                {
                    "type": 3,
                    "custom_id": ComponentAction::Category.custom_id(reference),
                    "placeholder": "Changer la catégorie / Change the category",
                    "min_values": 1,
                    "max_values": 1,
                    "options": options,
                },
            ],
        },
    ])
}

fn select_label(category: Category) -> &'static str {
    match category {
        Category::Urgent => "Urgence / Urgent",
        Category::Info => "Information / Info",
        Category::Complaint => "Plainte / Complaint",
    }
}

/// Language, confidence, reasons, due time and flags, one a line.
fn fields(view: &PostView) -> String {
    let confidence = (view.confidence.clamp(0.0, 1.0) * 100.0).round();
    let reasons = if view.reasons.is_empty() {
        "—".to_owned()
    } else {
        let joined = view.reasons.join(" ; ");
        escape_inline(&truncate_chars(&one_line(&joined, usize::MAX), 400))
    };
    let mut lines = vec![
        format!("**Langue / Language :** {}", language_label(view.language)),
        format!("**Confiance / Confidence :** {confidence} %"),
        format!("**Raisons / Reasons :** {reasons}"),
        format!(
            "**Échéance / Due :** {} · {}",
            timestamp(view.due_at, TimeStyle::Relative),
            timestamp(view.due_at, TimeStyle::Full)
        ),
    ];
    lines.extend(flags(view).iter().map(|f| (*f).to_owned()));
    lines.join("\n")
}

fn flags(view: &PostView) -> Vec<&'static str> {
    let mut flags = Vec::new();
    if view.needs_triage {
        flags.push("⚠️ À trier : classement incertain / Needs triage: uncertain category");
    }
    if view.abusive {
        flags.push("⚠️ Propos injurieux masqués / Abusive language masked");
    }
    flags
}

/// Shows mentions as text: a zero-width space after the `@` of `@everyone` and `@here`, and
/// after the `<` of `<@id>`, `<@!id>`, `<@&id>` and `<#id>`. Discord then neither pings nor
/// renders them as mentions; the text reads the same. E-mail addresses are left alone.
pub fn neutralise_mentions(text: &str) -> String {
    const ZWSP: char = '\u{200B}';
    let mut out = String::with_capacity(text.len() + 8);
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        out.push(c);
        let guarded = match c {
            '@' => rest.starts_with("everyone") || rest.starts_with("here"),
            '<' => rest.starts_with('@') || rest.starts_with('#'),
            _ => false,
        };
        if guarded {
            out.push(ZWSP);
        }
    }
    out
}

/// A citizen's text as a block quote: each line `> `, markdown escaped, mentions neutralised,
/// runs of blank lines kept to one. An empty text says so.
pub fn quote(text: &str) -> String {
    // Discord reads `> ` followed by nothing as plain text, which would end the quote: a blank
    // line inside it holds a zero-width space.
    const BLANK: &str = "> \u{200B}";
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut lines = Vec::new();
    let mut blank = false;
    for line in text.split('\n') {
        let line: String = line
            .chars()
            .filter(|c| !c.is_control() || *c == '\t')
            .collect();
        let line = line.trim_end();
        if line.trim().is_empty() {
            if !blank && !lines.is_empty() {
                lines.push(BLANK.to_owned());
            }
            blank = true;
            continue;
        }
        blank = false;
        lines.push(format!("> {}", neutralise_mentions(&escape_line(line))));
    }
    while lines.last().is_some_and(|l| l == BLANK) {
        lines.pop();
    }
    if lines.is_empty() {
        return "> *(aucun texte / no text)*".to_owned();
    }
    lines.join("\n")
}

/// Escapes what Discord's markdown would read in one line: emphasis, code, spoilers, masked
/// links anywhere; headings, lists, quotes and subtext at the line's start. URLs are left
/// whole, so that they stay links.
fn escape_line(line: &str) -> String {
    let start = line.len() - line.trim_start().len();
    let (indent, body) = line.split_at(start);
    let mut out = String::with_capacity(line.len() + 8);
    out.push_str(indent);
    // A heading (`# `), subtext (`-# `), list (`- `, `+ `, `1. `) or quote (`>`) at the start.
    let first = body.chars().next();
    if matches!(first, Some('#' | '-' | '+' | '>')) {
        out.push('\\');
    } else if first.is_some_and(|c| c.is_ascii_digit()) {
        let digits = body.chars().take_while(char::is_ascii_digit).count();
        if body[digits..].starts_with(". ") {
            out.push_str(&body[..digits]);
            out.push('\\');
            out.push_str(&escape_inline(&body[digits..]));
            return out;
        }
    }
    out.push_str(&escape_inline(body));
    out
}

/// Escapes inline markdown, leaving URLs whole.
fn escape_inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut in_url = false;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            in_url = false;
        } else if !in_url {
            let rest = &text[i..];
            in_url = rest.starts_with("https://") || rest.starts_with("http://");
        }
        if !in_url && matches!(c, '\\' | '*' | '_' | '~' | '`' | '|' | '[' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The quote of `text` in at most `budget` characters: whole when it fits, else its longest
/// prefix that fits with a note that it was cut.
fn fit_quote(text: &str, budget: usize) -> String {
    const CUT: &str = "\n> … *(texte tronqué / text truncated)*";
    let whole = quote(text);
    if chars(&whole) <= budget {
        return whole;
    }
    let room = budget.saturating_sub(chars(CUT));
    let ends: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
    if ends.len() < 2 {
        return CUT.trim_start_matches('\n').to_owned();
    }
    // The quote grows with the prefix: find the longest prefix whose quote fits.
    let fits = |n: usize| chars(&quote(&text[..ends[n]])) <= room;
    let (mut lo, mut hi) = (0, ends.len() - 1);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    let mut cut = quote(&text[..ends[lo]]);
    if chars(&cut) > room {
        cut.clear();
    }
    format!("{cut}{CUT}").trim_start_matches('\n').to_owned()
}

/// The whole text on one line (whitespace runs as one space, control characters dropped),
/// at most `max` characters.
fn one_line(text: &str, max: usize) -> String {
    let line = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    truncate_chars(&line, max)
}

/// The first words of `text` that fit in `room` characters, with `…` when some were left out;
/// a first word too long is cut.
fn first_words(text: &str, room: usize) -> String {
    if chars(text) <= room {
        return text.to_owned();
    }
    let mut taken = String::new();
    for word in text.split(' ') {
        let extra = chars(word) + usize::from(!taken.is_empty());
        if chars(&taken) + extra > room {
            break;
        }
        if !taken.is_empty() {
            taken.push(' ');
        }
        taken.push_str(word);
    }
    if taken.is_empty() {
        taken = text.chars().take(room).collect();
    }
    taken.push('…');
    taken
}

fn truncate_chars(text: &str, max: usize) -> String {
    if chars(text) <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn view(text: &str) -> PostView {
        PostView {
            reference: "G-000042".into(),
            category: Category::Urgent,
            language: Language::Fr,
            confidence: 0.874,
            reasons: vec!["hazard: gas leak".into(), "language: fr".into()],
            masked_text: text.into(),
            due_at: Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap(),
            channel: "discord".into(),
            needs_triage: false,
            abusive: false,
        }
    }

    #[test]
    fn a_post_is_titled_with_the_reference_the_category_and_the_first_words() {
        let spec = post(&view(
            "Ça sent le gaz très fort au 12 rue des Érables, venez vite",
        ));
        assert!(spec.title.starts_with("G-000042 · urgent · Ça sent le gaz"));
        assert!(spec.title.chars().count() <= TITLE_LIMIT);
        assert_eq!(spec.reference, "G-000042");
        assert_eq!(spec.tag, Category::Urgent);
    }

    #[test]
    fn a_long_text_is_cut_in_the_title_on_a_word_with_an_ellipsis() {
        let long = "mot ".repeat(200);
        let title = post(&view(&long)).title;
        assert!(title.chars().count() <= TITLE_LIMIT, "{title}");
        assert!(title.ends_with("mot…"), "{title}");
        let one_word = "a".repeat(300);
        let title = post(&view(&one_word)).title;
        assert!(title.chars().count() <= TITLE_LIMIT, "{title}");
        assert!(title.ends_with('…'));
        assert_eq!(post(&view("")).title, "G-000042 · urgent");
    }

    #[test]
    fn a_post_shows_the_quote_language_confidence_reasons_and_due_time() {
        let spec = post(&view("Ça sent le gaz\nau 12 rue des Érables"));
        let c = &spec.content;
        assert!(
            c.contains("> Ça sent le gaz\n> au 12 rue des Érables"),
            "{c}"
        );
        assert!(
            c.contains("**Langue / Language :** français / French"),
            "{c}"
        );
        assert!(c.contains("87 %"), "{c}");
        assert!(c.contains("hazard: gas leak ; language: fr"), "{c}");
        let unix = view("").due_at.timestamp();
        assert!(c.contains(&format!("<t:{unix}:R>")), "{c}");
        assert!(c.contains(&format!("<t:{unix}:f>")), "{c}");
        assert!(c.contains("urgence / urgent"), "{c}");
        assert!(!c.contains("À trier"), "{c}");
        let mut flagged = view("x");
        flagged.needs_triage = true;
        flagged.abusive = true;
        let c = post(&flagged).content;
        assert!(c.contains("Needs triage") && c.contains("Abusive language masked"));
    }

    #[test]
    fn a_post_pings_nobody_and_carries_claim_resolve_and_the_category_select() {
        let spec = post(&view("Bonjour"));
        assert_eq!(spec.allowed_mentions, json!({ "parse": [] }));
        let buttons = &spec.components[0]["components"];
        assert_eq!(buttons[0]["custom_id"], "guichet:claim:G-000042");
        assert_eq!(buttons[0]["label"], "Réclamer / Claim");
        assert_eq!(buttons[1]["custom_id"], "guichet:resolve:G-000042");
        assert_eq!(buttons[1]["label"], "Résoudre / Resolve");
        let select = &spec.components[1]["components"][0];
        assert_eq!(select["type"], 3);
        assert_eq!(select["custom_id"], "guichet:category:G-000042");
        let values: Vec<&str> = select["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["value"].as_str().unwrap())
            .collect();
        assert_eq!(values, ["urgent", "info", "complaint"]);
        assert_eq!(select["options"][0]["default"], true);
        assert_eq!(select["options"][1]["default"], false);
        assert!(select["options"][2]["label"]
            .as_str()
            .unwrap()
            .starts_with("Plainte"));
    }

    #[test]
    fn a_very_long_text_is_cut_so_that_the_post_fits_in_a_message() {
        let long = "Le bac de recyclage n'a pas été ramassé. ".repeat(120);
        let spec = post(&view(&long));
        assert!(spec.content.chars().count() <= MESSAGE_LIMIT);
        assert!(spec.content.contains("texte tronqué / text truncated"));
        assert!(spec.content.contains("**Échéance / Due :**"), "fields kept");
        let marked = "*_`|~".repeat(700);
        let spec = post(&view(&marked));
        assert!(spec.content.chars().count() <= MESSAGE_LIMIT);
    }

    #[test]
    fn mentions_in_citizen_text_show_as_text() {
        let text = "@everyone @here <@123> <@!124> <@&456> <#789> écrivez à info@ville.ca";
        let shown = neutralise_mentions(text);
        for live in ["@everyone", "@here", "<@", "<#"] {
            assert!(!shown.contains(live), "{live} in {shown}");
        }
        assert!(shown.contains("info@ville.ca"), "e-mail left alone");
        assert_eq!(shown.replace('\u{200B}', ""), text, "reads the same");
        let c = post(&view(text)).content;
        assert!(!c.contains("@everyone") && !c.contains("<@&456>"), "{c}");
        let t = post(&view(text)).title;
        assert!(!t.contains("@everyone"), "{t}");
    }

    #[test]
    fn markdown_in_citizen_text_cannot_break_out_of_the_quote() {
        let q = quote(
            "```\n# Titre\n-# petit\n> cité\n1. liste\n**gras** [lien](https://x.ca) ||spoil||",
        );
        for line in q.lines() {
            assert!(line.starts_with('>'), "{line:?} in {q}");
        }
        assert!(q.contains("> \\`\\`\\`"), "{q}");
        assert!(q.contains("> \\# Titre"), "{q}");
        assert!(q.contains("> \\-# petit"), "{q}");
        assert!(q.contains("> \\> cité"), "{q}");
        assert!(q.contains("> 1\\. liste"), "{q}");
        assert!(
            q.contains("\\*\\*gras\\*\\* \\[lien\\](https://x.ca)"),
            "{q}"
        );
        assert!(q.contains("\\|\\|spoil\\|\\|"), "{q}");
        assert!(quote("voir https://ville.ca/a_b_c").contains("https://ville.ca/a_b_c"));
    }

    #[test]
    fn blank_lines_and_control_characters_do_not_open_holes_in_the_quote() {
        let q = quote("un\r\n\r\n\r\n\r\ndeux\u{7}\n\n");
        assert_eq!(q, "> un\n> \u{200B}\n> deux");
        assert_eq!(quote("  \n "), "> *(aucun texte / no text)*");
    }

    #[test]
    fn a_later_message_is_appended_quoted_with_its_reference() {
        let mut later = view("Toujours rien @everyone");
        later.abusive = true;
        let text = appended(&later);
        assert!(text.starts_with("**G-000042** · nouveau message"), "{text}");
        assert!(text.contains("> Toujours rien @\u{200B}everyone"), "{text}");
        assert!(text.contains("Abusive language masked"));
        assert!(text.contains("<t:"));
        let long = appended(&view(&"x ".repeat(3000)));
        assert!(long.chars().count() <= MESSAGE_LIMIT);
    }

    #[test]
    fn an_overdue_alert_pings_the_coordinator_role_and_nothing_else() {
        let due = view("").due_at;
        let link = "https://discord.com/channels/1/2";
        let (content, mentions) = alert(
            AlertLevel::Overdue,
            "G-000042",
            Category::Complaint,
            due,
            Some(link),
            555,
        );
        assert!(content.starts_with("<@&555> "), "{content}");
        assert!(content.contains("En retard / Overdue") && content.contains("G-000042"));
        assert!(content.contains("plainte / complaint") && content.ends_with(link));
        assert_eq!(mentions, json!({ "parse": [], "roles": ["555"] }));
        let (content, mentions) = alert(
            AlertLevel::Overdue,
            "G-000042",
            Category::Info,
            due,
            None,
            0,
        );
        assert!(!content.contains("<@&"), "{content}");
        assert_eq!(mentions, json!({ "parse": [] }));
    }

    #[test]
    fn an_at_risk_alert_pings_nobody() {
        let due = view("").due_at;
        let (content, mentions) = alert(
            AlertLevel::AtRisk,
            "G-000007",
            Category::Info,
            due,
            None,
            555,
        );
        assert!(content.contains("À risque / At risk") && content.contains("G-000007"));
        assert!(!content.contains("<@&"), "{content}");
        assert!(content.contains(&format!("<t:{}:R>", due.timestamp())));
        assert_eq!(mentions, json!({ "parse": [] }));
    }
}
