//! Citizen-facing text: the acknowledgment, warning and FAQ templates under `responses/`.
//!
//! This module owns what a citizen reads: the templates `responses/{fr,en}/*.j2`, the FAQ
//! answers `responses/{fr,en}/faq/<id>.j2` and their index `responses/faq.toml`. It loads,
//! compiles and checks the whole tree once, in [`Responses::load`], so that a broken or
//! missing template fails `guichet check` and start-up instead of the first citizen. Beyond
//! compiling, `load` enforces the house rules: every template exists in French and English,
//! uses only the variables listed below, and renders under strict undefined handling; every
//! acknowledgment shows the reference and the customer-service number; the urgent one gives
//! the emergency guidance and never promises a delay.
//!
//! The shipped tree is compiled into the binary (see `build.rs`), so that guichet runs from any
//! directory; [`Origin::configured`] says whether a directory on disk replaces it.
//!
//! It must not decide anything about a thread: the category, whether the FAQ is consulted,
//! whether a warning is due are the pipeline's decisions. After `load` it does no I/O and
//! reads no clock: the due time comes in the [`Context`].
//!
//! Every template sees `city`, `reference`, `due` (already formatted in the city's time
//! zone), `customer_service_phone`, `public_works_phone`, `emergency_number` and `website`.
//! The info acknowledgment also sees `faq_answer` when an answer matched; test it with
//! `{% if faq_answer is defined %}`, since an undefined value is an error. Templates show
//! `city` on its own, never after "de" or "à": a name like "Alma" would need an elision
//! that a template cannot know.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use minijinja::{AutoEscape, Environment, UndefinedBehavior};
use serde::{Deserialize, Serialize};

use crate::domain::{Category, Language};

/// The FAQ index, relative to the template tree.
const FAQ_INDEX: &str = "faq.toml";

/// The shipped tree, `responses/` at build time: (path relative to it, text).
const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/responses.rs"));

/// The directory of a checkout's templates, relative to the working directory.
const DEFAULT_DIR: &str = "responses";

/// Variables every template may use.
const VARIABLES: [&str; 8] = [
    "city",
    // True when the first response is already due (a message that reached guichet late):
    // the acknowledgment must not promise a time already past.
    "late",
    "reference",
    "due",
    "customer_service_phone",
    "public_works_phone",
    "emergency_number",
    "website",
];

/// The extra variable of the info acknowledgment, defined only when a FAQ answer matched.
const FAQ_ANSWER: &str = "faq_answer";

/// The compiled, validated template tree. Cheap to share: it is `Send + Sync` and rendering
/// takes `&self`.
pub struct Responses {
    origin: Origin,
    env: Environment<'static>,
    faq: Vec<FaqEntry>,
    /// Template name (as compiled) → the file it came from, so that errors name the file.
    paths: HashMap<String, PathBuf>,
}

/// Where a template tree is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The shipped templates, compiled into the binary.
    Embedded,
    /// A tree on disk.
    Dir(PathBuf),
}

impl Origin {
    /// The tree to use for `responses.dir`: the directory when it is set (it must then
    /// exist); unset, `responses/` of the working directory when it is a directory (a
    /// checkout, where templates are edited), else the compiled-in templates.
    pub fn configured(dir: Option<&Path>) -> Origin {
        match dir {
            Some(dir) => Origin::Dir(dir.to_path_buf()),
            None if Path::new(DEFAULT_DIR).is_dir() => Origin::Dir(PathBuf::from(DEFAULT_DIR)),
            None => Origin::Embedded,
        }
    }

    /// Where the template `name` (e.g. `fr/ack_info.j2`) lives, for messages.
    fn path(&self, name: &str) -> PathBuf {
        let root = match self {
            Origin::Embedded => Path::new(DEFAULT_DIR),
            Origin::Dir(dir) => dir.as_path(),
        };
        name.split('/')
            .fold(root.to_path_buf(), |path, part| path.join(part))
    }

    /// The text of `name`; a missing file is `MissingTemplate`, whose caller may rename it.
    fn read(&self, name: &str) -> Result<String, ResponsesError> {
        let path = self.path(name);
        match self {
            Origin::Embedded => EMBEDDED
                .iter()
                .find(|(embedded, _)| *embedded == name)
                .map(|(_, text)| (*text).to_owned())
                .ok_or(ResponsesError::MissingTemplate { path }),
            Origin::Dir(_) => match fs::read_to_string(&path) {
                Ok(source) => Ok(source),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    Err(ResponsesError::MissingTemplate { path })
                }
                Err(error) => Err(ResponsesError::Unreadable {
                    path,
                    reason: error.to_string(),
                }),
            },
        }
    }
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Embedded => write!(f, "the embedded {DEFAULT_DIR}/"),
            Origin::Dir(dir) => write!(f, "{}", dir.display()),
        }
    }
}

/// What a template is rendered with, for one thread.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub city: &'a str,
    /// The thread's reference, quoted by the citizen when calling customer service.
    pub reference: &'a str,
    /// When the thread's first response is due; shown in `tz`.
    pub due_at: DateTime<Utc>,
    /// The city's time zone.
    pub tz: Tz,
    pub customer_service_phone: &'a str,
    /// The public-works line, open day and night, for water, sewers and roads.
    pub public_works_phone: &'a str,
    pub emergency_number: &'a str,
    pub website: &'a str,
    /// The response is already due: say the request is handled as a priority instead of
    /// promising a time already past.
    pub late: bool,
}

/// A FAQ entry that matched a message, with its answer rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaqMatch {
    pub id: String,
    pub answer: String,
}

/// Why the template tree cannot be loaded, or (rarely, after a successful load) rendered.
#[derive(Debug, thiserror::Error)]
pub enum ResponsesError {
    #[error("template {} is missing", .path.display())]
    MissingTemplate { path: PathBuf },

    #[error("template {} shows the due time even when it is already past: wrap it in {{% if not late %}}", .path.display())]
    LatePromise { path: PathBuf },

    #[error("{} cannot be read: {reason}", .path.display())]
    Unreadable { path: PathBuf, reason: String },

    #[error("template {} has a syntax error{}: {detail}", .path.display(), at_line(*.line))]
    TemplateSyntax {
        path: PathBuf,
        line: Option<usize>,
        detail: String,
    },

    #[error(
        "template {} uses the unknown variable `{name}` (available: {available})",
        .path.display()
    )]
    UnknownVariable {
        path: PathBuf,
        name: String,
        available: String,
    },

    #[error("template {} fails to render{}: {detail}", .path.display(), at_line(*.line))]
    TemplateRender {
        path: PathBuf,
        line: Option<usize>,
        detail: String,
    },

    #[error(
        "template {} never shows {{{{ {variable} }}}}, which this message must always give",
        .path.display()
    )]
    MissingContent {
        path: PathBuf,
        variable: &'static str,
    },

    #[error(
        "urgent acknowledgment {} promises a response delay (\"{excerpt}\"), which it must \
         never do: it gives the emergency guidance instead",
        .path.display()
    )]
    UrgentDelay { path: PathBuf, excerpt: String },

    #[error("FAQ index {} is missing", .path.display())]
    MissingFaqIndex { path: PathBuf },

    #[error("FAQ index {} is invalid: {detail}", .path.display())]
    InvalidFaqIndex { path: PathBuf, detail: String },

    #[error(
        "FAQ entry \"{id}\" has no {} answer: template {} is missing",
        language_name(*.language),
        .path.display()
    )]
    MissingFaqAnswer {
        id: String,
        language: Language,
        path: PathBuf,
    },
}

impl Responses {
    /// Loads the template tree rooted at `dir` and validates all of it, in both languages.
    ///
    /// # Errors
    ///
    /// Any missing or unreadable template, syntax error, unknown variable, template that
    /// fails to render a sample context, acknowledgment that leaves out what it must show,
    /// urgent acknowledgment that promises a delay, invalid `faq.toml`, or FAQ entry without
    /// its answer in French or English. The error names the file.
    pub fn load(dir: &Path) -> Result<Responses, ResponsesError> {
        Self::load_from(Origin::Dir(dir.to_path_buf()))
    }

    /// The shipped templates compiled into the binary, validated like any tree.
    ///
    /// # Errors
    ///
    /// As [`Responses::load`]; not expected, since the tests load the shipped tree.
    pub fn embedded() -> Result<Responses, ResponsesError> {
        Self::load_from(Origin::Embedded)
    }

    /// Loads and validates the tree at `origin` (see [`Origin::configured`]).
    ///
    /// # Errors
    ///
    /// As [`Responses::load`].
    pub fn load_from(origin: Origin) -> Result<Responses, ResponsesError> {
        let mut loader = Loader::new(&origin);
        for language in Language::ALL {
            for kind in Kind::ALL {
                loader.add(&kind.template_name(language))?;
            }
        }

        let faq = read_faq_index(&origin)?;
        for entry in &faq {
            for language in Language::ALL {
                loader
                    .add(&faq_template_name(language, &entry.id))
                    .map_err(|error| match error {
                        ResponsesError::MissingTemplate { path } => {
                            ResponsesError::MissingFaqAnswer {
                                id: entry.id.clone(),
                                language,
                                path,
                            }
                        }
                        other => other,
                    })?;
            }
        }

        let (env, paths) = (loader.env, loader.paths);
        let responses = Responses {
            origin,
            env,
            faq,
            paths,
        };
        responses.validate()?;
        Ok(responses)
    }

    /// Where the templates were read from.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The automatic acknowledgment of a new thread. `faq_answer` is shown by the info
    /// acknowledgment only: the pipeline consults the FAQ for info requests alone, so the
    /// other categories ignore it.
    ///
    /// # Errors
    ///
    /// A template that fails to render; `load` renders every template, so this is not
    /// expected.
    pub fn acknowledgment(
        &self,
        lang: Language,
        category: Category,
        ctx: &Context,
        faq_answer: Option<&str>,
    ) -> Result<String, ResponsesError> {
        let kind = Kind::acknowledging(category);
        let faq_answer = faq_answer.filter(|_| kind == Kind::AckInfo);
        self.render(&kind.template_name(lang), &Vars::new(lang, ctx, faq_answer))
    }

    /// The warning sent to the author of an abusive message.
    ///
    /// # Errors
    ///
    /// A template that fails to render; not expected after `load`.
    pub fn warning(&self, lang: Language, ctx: &Context) -> Result<String, ResponsesError> {
        self.render(
            &Kind::Warning.template_name(lang),
            &Vars::new(lang, ctx, None),
        )
    }

    /// The answer of the first FAQ entry (in `faq.toml` order) with a pattern in `lang`
    /// matching `normalized_text`: lowercase, accents removed, elisions split.
    ///
    /// Matching looks at words, not intent: "les vidanges ont pas été ramassées" names the
    /// topic of the collection calendar. The patterns pair topics with question words to
    /// keep such complaints out, and the pipeline asks only for requests classified info.
    ///
    /// # Errors
    ///
    /// A template that fails to render; not expected after `load`.
    pub fn faq(
        &self,
        lang: Language,
        normalized_text: &str,
        ctx: &Context,
    ) -> Result<Option<FaqMatch>, ResponsesError> {
        let words: Vec<&str> = normalized_text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|word| !word.is_empty())
            .collect();
        let Some(entry) = self.faq.iter().find(|entry| {
            entry
                .patterns(lang)
                .iter()
                .any(|pattern| pattern.matches(&words))
        }) else {
            return Ok(None);
        };
        let answer = self.render(
            &faq_template_name(lang, &entry.id),
            &Vars::new(lang, ctx, None),
        )?;
        Ok(Some(FaqMatch {
            id: entry.id.clone(),
            answer,
        }))
    }

    /// `due_at` in `tz`, written out for a citizen: "le lundi 23 novembre 2026 à 14 h 30",
    /// "Monday, November 23, 2026 at 2:30 p.m.". Minutes are left out on the hour
    /// ("à 14 h", "at 2 p.m.").
    pub fn format_due(lang: Language, due_at: DateTime<Utc>, tz: Tz) -> String {
        let local = due_at.with_timezone(&tz);
        let weekday = local.weekday().num_days_from_monday() as usize;
        let month = local.month0() as usize;
        let (day, year, minute) = (local.day(), local.year(), local.minute());
        match lang {
            Language::Fr => {
                let day = if day == 1 {
                    "1er".to_owned()
                } else {
                    day.to_string()
                };
                let minute = if minute == 0 {
                    String::new()
                } else {
                    format!(" {minute:02}")
                };
                format!(
                    "le {} {day} {} {year} à {} h{minute}",
                    FRENCH_DAYS[weekday],
                    FRENCH_MONTHS[month],
                    local.hour()
                )
            }
            Language::En => {
                let (pm, hour) = local.hour12();
                let time = if minute == 0 {
                    hour.to_string()
                } else {
                    format!("{hour}:{minute:02}")
                };
                let meridiem = if pm { "p.m." } else { "a.m." };
                format!(
                    "{}, {} {day}, {year} at {time} {meridiem}",
                    ENGLISH_DAYS[weekday], ENGLISH_MONTHS[month]
                )
            }
        }
    }

    fn render(&self, name: &str, vars: &Vars) -> Result<String, ResponsesError> {
        let template =
            self.env
                .get_template(name)
                .map_err(|_| ResponsesError::MissingTemplate {
                    path: self.path_of(name),
                })?;
        let raw = template
            .render(vars)
            .map_err(|error| ResponsesError::TemplateRender {
                path: self.path_of(name),
                line: error.line(),
                detail: describe(&error),
            })?;
        Ok(tidy(&raw))
    }

    fn path_of(&self, name: &str) -> PathBuf {
        self.paths
            .get(name)
            .cloned()
            .unwrap_or_else(|| PathBuf::from(name))
    }

    /// Renders every template with a sample context and checks the house rules. Sample
    /// values are placeholders with no digits, so that the delay check on the urgent
    /// acknowledgment sees only what the template itself writes.
    fn validate(&self) -> Result<(), ResponsesError> {
        let sample = sample_context();
        for language in Language::ALL {
            for kind in Kind::ALL {
                let name = kind.template_name(language);
                self.check_variables(&name, kind == Kind::AckInfo)?;
                let answers: &[Option<&str>] = if kind == Kind::AckInfo {
                    &[None, Some(SAMPLE_FAQ_ANSWER)]
                } else {
                    &[None]
                };
                for &faq_answer in answers {
                    let vars = Vars::new(language, &sample, faq_answer);
                    let text = self.render(&name, &vars)?;
                    for &variable in kind.must_show(faq_answer.is_some()) {
                        if !vars
                            .value(variable)
                            .is_some_and(|value| text.contains(value))
                        {
                            return Err(ResponsesError::MissingContent {
                                path: self.path_of(&name),
                                variable,
                            });
                        }
                    }
                    if kind == Kind::AckUrgent {
                        self.check_no_delay(&name, &text)?;
                    }
                    let late = Context {
                        late: true,
                        ..sample_context()
                    };
                    let text = self.render(&name, &Vars::new(language, &late, faq_answer))?;
                    if text.contains(&vars.due) {
                        return Err(ResponsesError::LatePromise {
                            path: self.path_of(&name),
                        });
                    }
                }
            }
            for entry in &self.faq {
                let name = faq_template_name(language, &entry.id);
                self.check_variables(&name, false)?;
                self.render(&name, &Vars::new(language, &sample, None))?;
            }
        }
        Ok(())
    }

    fn check_variables(&self, name: &str, allows_faq_answer: bool) -> Result<(), ResponsesError> {
        let template =
            self.env
                .get_template(name)
                .map_err(|_| ResponsesError::MissingTemplate {
                    path: self.path_of(name),
                })?;
        let globals: HashSet<&str> = self.env.globals().map(|(global, _)| global).collect();
        let mut unknown: Vec<String> = template
            .undeclared_variables(false)
            .into_iter()
            .filter(|variable| {
                let known = VARIABLES.contains(&variable.as_str())
                    || (allows_faq_answer && variable == FAQ_ANSWER)
                    || globals.contains(variable.as_str());
                !known
            })
            .collect();
        unknown.sort();
        match unknown.into_iter().next() {
            None => Ok(()),
            Some(variable) => {
                let mut available = VARIABLES.to_vec();
                if allows_faq_answer {
                    available.push(FAQ_ANSWER);
                }
                Err(ResponsesError::UnknownVariable {
                    path: self.path_of(name),
                    name: variable,
                    available: available.join(", "),
                })
            }
        }
    }

    /// Checks the urgent acknowledgment's source as well as its rendering, so that text in a
    /// branch the sample did not take is caught too. Showing `due` at all is a promise.
    fn check_no_delay(&self, name: &str, rendered: &str) -> Result<(), ResponsesError> {
        let (source, shows_due) = match self.env.get_template(name) {
            Ok(template) => (
                template.source().to_owned(),
                template.undeclared_variables(false).contains("due"),
            ),
            Err(_) => (String::new(), false),
        };
        let excerpt = if shows_due {
            Some("{{ due }}".to_owned())
        } else {
            promised_delay(&source).or_else(|| promised_delay(rendered))
        };
        match excerpt {
            None => Ok(()),
            Some(excerpt) => Err(ResponsesError::UrgentDelay {
                path: self.path_of(name),
                excerpt,
            }),
        }
    }
}

/// The templates every language must have, besides the FAQ answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    AckUrgent,
    AckInfo,
    AckComplaint,
    Warning,
}

impl Kind {
    const ALL: [Kind; 4] = [
        Kind::AckUrgent,
        Kind::AckInfo,
        Kind::AckComplaint,
        Kind::Warning,
    ];

    fn acknowledging(category: Category) -> Kind {
        match category {
            Category::Urgent => Kind::AckUrgent,
            Category::Info => Kind::AckInfo,
            Category::Complaint => Kind::AckComplaint,
        }
    }

    fn stem(self) -> &'static str {
        match self {
            Kind::AckUrgent => "ack_urgent",
            Kind::AckInfo => "ack_info",
            Kind::AckComplaint => "ack_complaint",
            Kind::Warning => "warning",
        }
    }

    fn template_name(self, language: Language) -> String {
        format!("{language}/{}.j2", self.stem())
    }

    /// The variables whose value the rendered text must contain: the policy's automatic
    /// message always sends the citizen to customer service, and an urgent one to the
    /// emergency lines.
    fn must_show(self, with_faq_answer: bool) -> &'static [&'static str] {
        match (self, with_faq_answer) {
            (Kind::AckUrgent, _) => &[
                "reference",
                "emergency_number",
                "public_works_phone",
                "customer_service_phone",
            ],
            // A matched FAQ answer replaces the forwarding, so no agent's answer is promised.
            (Kind::AckInfo, true) => &["reference", FAQ_ANSWER, "customer_service_phone"],
            (Kind::AckInfo, false) | (Kind::AckComplaint, _) => {
                &["reference", "due", "customer_service_phone"]
            }
            (Kind::Warning, _) => &[],
        }
    }
}

fn faq_template_name(language: Language, id: &str) -> String {
    format!("{language}/faq/{id}.j2")
}

/// Reads and compiles templates into one environment, remembering where each came from.
struct Loader<'o> {
    origin: &'o Origin,
    env: Environment<'static>,
    paths: HashMap<String, PathBuf>,
}

impl<'o> Loader<'o> {
    fn new(origin: &'o Origin) -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Plain text for chat messages: nothing to escape, and block tags on their own line
        // leave no blank line behind.
        env.set_auto_escape_callback(|_| AutoEscape::None);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        Loader {
            origin,
            env,
            paths: HashMap::new(),
        }
    }

    fn add(&mut self, name: &str) -> Result<(), ResponsesError> {
        let path = self.origin.path(name);
        let source = self.origin.read(name)?;
        if let Err(error) = self.env.add_template_owned(name.to_owned(), source) {
            return Err(ResponsesError::TemplateSyntax {
                path,
                line: error.line(),
                detail: describe(&error),
            });
        }
        self.paths.insert(name.to_owned(), path);
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FaqFile {
    #[serde(default)]
    entry: Vec<RawFaqEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaqEntry {
    id: String,
    fr: Vec<String>,
    en: Vec<String>,
}

struct FaqEntry {
    id: String,
    fr: Vec<Pattern>,
    en: Vec<Pattern>,
}

impl FaqEntry {
    fn patterns(&self, language: Language) -> &[Pattern] {
        match language {
            Language::Fr => &self.fr,
            Language::En => &self.en,
        }
    }
}

fn read_faq_index(origin: &Origin) -> Result<Vec<FaqEntry>, ResponsesError> {
    let source = origin.read(FAQ_INDEX).map_err(|error| match error {
        ResponsesError::MissingTemplate { path } => ResponsesError::MissingFaqIndex { path },
        other => other,
    })?;
    let path = &origin.path(FAQ_INDEX);
    let invalid = |detail: String| ResponsesError::InvalidFaqIndex {
        path: path.to_owned(),
        detail,
    };
    let file: FaqFile = toml::from_str(&source).map_err(|error| {
        // The parser's message may span lines; the error is one sentence.
        let message = error
            .message()
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect::<Vec<_>>()
            .join(": ");
        invalid(match error.span() {
            Some(span) => {
                let line = source[..span.start].matches('\n').count() + 1;
                format!("line {line}: {message}")
            }
            None => message,
        })
    })?;

    let mut seen = HashSet::new();
    let mut entries = Vec::with_capacity(file.entry.len());
    for raw in file.entry {
        let id_is_valid = !raw.id.is_empty()
            && raw
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_is_valid {
            return Err(invalid(format!(
                "the id \"{}\" must be made of lowercase letters, digits and hyphens",
                raw.id
            )));
        }
        if !seen.insert(raw.id.clone()) {
            return Err(invalid(format!("the id \"{}\" appears twice", raw.id)));
        }
        let fr = parse_patterns(&raw.id, Language::Fr, &raw.fr).map_err(invalid)?;
        let en = parse_patterns(&raw.id, Language::En, &raw.en).map_err(invalid)?;
        entries.push(FaqEntry { id: raw.id, fr, en });
    }
    Ok(entries)
}

fn parse_patterns(id: &str, language: Language, raw: &[String]) -> Result<Vec<Pattern>, String> {
    if raw.is_empty() {
        return Err(format!(
            "entry \"{id}\" has no {} patterns",
            language_name(language)
        ));
    }
    raw.iter()
        .map(|pattern| {
            Pattern::parse(pattern).map_err(|problem| {
                format!("entry \"{id}\" has the pattern \"{pattern}\", {problem}")
            })
        })
        .collect()
}

/// Words that must all appear in a message, in any order.
#[derive(Debug)]
struct Pattern {
    words: Vec<PatternWord>,
}

#[derive(Debug)]
enum PatternWord {
    Exact(String),
    Prefix(String),
}

impl Pattern {
    /// Parses "heure* hotel ville". Words are in normalized form (lowercase ASCII letters
    /// and digits), since a word with an accent or a capital could never match.
    fn parse(raw: &str) -> Result<Pattern, String> {
        let words = raw
            .split_whitespace()
            .map(|word| {
                let (stem, prefix) = match word.strip_suffix('*') {
                    Some(stem) => (stem, true),
                    None => (word, false),
                };
                let normalized = !stem.is_empty()
                    && stem
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
                if !normalized {
                    return Err(format!(
                        "whose word \"{word}\" can never match normalized text (lowercase \
                         letters and digits without accents, optionally ending in *)"
                    ));
                }
                Ok(if prefix {
                    PatternWord::Prefix(stem.to_owned())
                } else {
                    PatternWord::Exact(stem.to_owned())
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if words.is_empty() {
            return Err("which is empty".to_owned());
        }
        Ok(Pattern { words })
    }

    fn matches(&self, text_words: &[&str]) -> bool {
        self.words.iter().all(|word| {
            text_words.iter().any(|text_word| match word {
                PatternWord::Exact(exact) => text_word == exact,
                PatternWord::Prefix(prefix) => text_word.starts_with(prefix.as_str()),
            })
        })
    }
}

/// The values a template sees.
#[derive(Serialize)]
struct Vars<'a> {
    city: &'a str,
    reference: &'a str,
    due: String,
    customer_service_phone: &'a str,
    public_works_phone: &'a str,
    emergency_number: &'a str,
    website: &'a str,
    late: bool,
    /// Left out entirely when absent, so that `faq_answer is defined` tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    faq_answer: Option<&'a str>,
}

impl<'a> Vars<'a> {
    fn new(language: Language, ctx: &Context<'a>, faq_answer: Option<&'a str>) -> Self {
        Vars {
            city: ctx.city,
            reference: ctx.reference,
            due: Responses::format_due(language, ctx.due_at, ctx.tz),
            customer_service_phone: ctx.customer_service_phone,
            public_works_phone: ctx.public_works_phone,
            emergency_number: ctx.emergency_number,
            website: ctx.website,
            late: ctx.late,
            faq_answer,
        }
    }

    fn value(&self, variable: &str) -> Option<&str> {
        match variable {
            "city" => Some(self.city),
            "reference" => Some(self.reference),
            "due" => Some(&self.due),
            "customer_service_phone" => Some(self.customer_service_phone),
            "public_works_phone" => Some(self.public_works_phone),
            "emergency_number" => Some(self.emergency_number),
            "website" => Some(self.website),
            FAQ_ANSWER => self.faq_answer,
            _ => None,
        }
    }
}

const SAMPLE_FAQ_ANSWER: &str = "SAMPLE-FAQ-ANSWER";

fn sample_context() -> Context<'static> {
    Context {
        city: "SAMPLE-CITY",
        reference: "SAMPLE-REFERENCE",
        due_at: Utc
            .with_ymd_and_hms(2026, 11, 23, 19, 30, 0)
            .single()
            .expect("a valid UTC instant"),
        tz: chrono_tz::America::Montreal,
        customer_service_phone: "SAMPLE-CUSTOMER-SERVICE",
        public_works_phone: "SAMPLE-PUBLIC-WORKS",
        emergency_number: "SAMPLE-EMERGENCY",
        website: "SAMPLE-WEBSITE",
        late: false,
    }
}

/// Units that turn a number into a delay: "2 h", "24 heures", "3 business days".
const TIME_UNITS: [&str; 21] = [
    "h", "hr", "hrs", "heure", "heures", "hour", "hours", "jour", "jours", "day", "days",
    "semaine", "semaines", "week", "weeks", "min", "minute", "minutes", "mois", "month", "months",
];

/// Words that may stand between a number and its unit ("3 business days").
const UNIT_QUALIFIERS: [&str; 3] = ["business", "working", "calendar"];

/// Delays without a digit-and-unit form: the policy's "48 hours" spelled out, an hour in
/// words, and clock times ("by 5 p.m.").
const DELAY_MARKERS: [&str; 12] = [
    "quarante-huit",
    "quarante huit",
    "forty-eight",
    "forty eight",
    "une heure",
    "dans l’heure",
    "dans l'heure",
    "one hour",
    "an hour",
    "the hour",
    "a.m.",
    "p.m.",
];

/// The first line of `text` that promises a delay: any "48" (as in "24 à 48 h",
/// "24–48 hours"), or a number followed by a unit of time. "24/7", "24 h/24" and
/// "24 heures sur 24, 7 jours sur 7" describe a line that is always open, not a delay.
fn promised_delay(text: &str) -> Option<String> {
    text.lines()
        .find(|line| line_promises_delay(&line.to_lowercase()))
        .map(|line| line.trim().chars().take(120).collect())
}

fn line_promises_delay(line: &str) -> bool {
    if DELAY_MARKERS.iter().any(|marker| line.contains(marker)) {
        return true;
    }
    let mut rest = line;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let from_number = &rest[start..];
        let end = from_number
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(from_number.len());
        let (number, after) = from_number.split_at(end);
        if number == "48" || time_unit_follows(after) {
            return true;
        }
        rest = after;
    }
    false
}

fn time_unit_follows(after_number: &str) -> bool {
    let (mut unit, mut after_unit) = next_word(after_number);
    if UNIT_QUALIFIERS.contains(&unit) {
        (unit, after_unit) = next_word(after_unit);
    }
    if !TIME_UNITS.contains(&unit) {
        return false;
    }
    let tail = after_unit.trim_start();
    !(tail.starts_with('/') || next_word(tail).0 == "sur")
}

/// The run of letters after optional whitespace, and what follows it.
fn next_word(text: &str) -> (&str, &str) {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(text.len());
    text.split_at(end)
}

/// Trims trailing whitespace from every line and keeps at most one blank line in a row, so
/// that template layout never shows in a chat bubble.
fn tidy(raw: &str) -> String {
    let mut text = String::with_capacity(raw.len());
    let mut blank_before = false;
    for line in raw.lines().map(str::trim_end) {
        if line.is_empty() {
            blank_before = true;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank_before { "\n\n" } else { "\n" });
        }
        text.push_str(line);
        blank_before = false;
    }
    text
}

fn describe(error: &minijinja::Error) -> String {
    error
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| error.kind().to_string())
}

fn at_line(line: Option<usize>) -> String {
    line.map(|line| format!(" at line {line}"))
        .unwrap_or_default()
}

fn language_name(language: Language) -> &'static str {
    match language {
        Language::Fr => "French",
        Language::En => "English",
    }
}

const FRENCH_DAYS: [&str; 7] = [
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
];
const FRENCH_MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];
const ENGLISH_DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const ENGLISH_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::Montreal;

    fn shipped_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("responses")
    }

    fn shipped() -> Responses {
        Responses::load(&shipped_dir()).unwrap_or_else(|error| panic!("{error}"))
    }

    fn utc(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(year, month, day, hour, minute, 0)
            .single()
            .expect("a valid UTC instant")
    }

    fn context() -> Context<'static> {
        Context {
            city: "Saint-Exemple",
            reference: "G-2026-00042",
            due_at: utc(2026, 11, 23, 19, 30),
            tz: Montreal,
            customer_service_phone: "819 555-0100",
            public_works_phone: "819 555-0199",
            emergency_number: "911",
            website: "https://www.saint-exemple.qc.ca",
            late: false,
        }
    }

    /// Every text a citizen can receive, with a label for assertion messages.
    fn every_rendering(responses: &Responses) -> Vec<(String, String)> {
        let ctx = context();
        let mut texts = Vec::new();
        for lang in Language::ALL {
            for category in Category::ALL {
                let text = responses
                    .acknowledgment(lang, category, &ctx, None)
                    .unwrap();
                texts.push((format!("{lang} {category} acknowledgment"), text));
            }
            let with_answer = responses
                .acknowledgment(lang, Category::Info, &ctx, Some("Une réponse."))
                .unwrap();
            texts.push((
                format!("{lang} info acknowledgment with an answer"),
                with_answer,
            ));
            texts.push((
                format!("{lang} warning"),
                responses.warning(lang, &ctx).unwrap(),
            ));
            for entry in &responses.faq {
                let text = responses
                    .render(
                        &faq_template_name(lang, &entry.id),
                        &Vars::new(lang, &ctx, None),
                    )
                    .unwrap();
                texts.push((format!("{lang} FAQ answer {}", entry.id), text));
            }
        }
        texts
    }

    fn copy_dir(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            let target = to.join(entry.file_name());
            if entry.file_type().unwrap().is_dir() {
                copy_dir(&entry.path(), &target);
            } else {
                fs::copy(entry.path(), &target).unwrap();
            }
        }
    }

    fn copy_of_shipped_tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&shipped_dir(), dir.path());
        dir
    }

    fn load_error(dir: &Path) -> (ResponsesError, String) {
        match Responses::load(dir) {
            Ok(_) => panic!("the tree in {} loaded", dir.display()),
            Err(error) => {
                let message = error.to_string();
                (error, message)
            }
        }
    }

    fn append(path: &Path, text: &str) {
        let mut content = fs::read_to_string(path).unwrap();
        content.push_str(text);
        fs::write(path, content).unwrap();
    }

    #[test]
    fn the_shipped_tree_loads_with_its_five_faq_entries() {
        let responses = shipped();
        let ids: Vec<&str> = responses
            .faq
            .iter()
            .map(|entry| entry.id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "city-hall-hours",
                "garbage-recycling-collection",
                "permits",
                "library-hours",
                "pay-taxes"
            ]
        );
    }

    #[test]
    fn the_embedded_tree_holds_every_shipped_file_unchanged() {
        fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
            for entry in fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, files);
                } else {
                    files.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(&shipped_dir(), &mut files);
        assert_eq!(EMBEDDED.len(), files.len(), "{EMBEDDED:?}");
        for file in files {
            let name = file
                .strip_prefix(shipped_dir())
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = Origin::Embedded
                .read(&name)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(text, fs::read_to_string(&file).unwrap(), "{name}");
        }
    }

    #[test]
    fn the_embedded_tree_renders_like_the_shipped_directory() {
        let embedded = Responses::embedded().unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(embedded.origin(), &Origin::Embedded);
        assert_eq!(every_rendering(&embedded), every_rendering(&shipped()));
    }

    #[test]
    fn a_configured_directory_replaces_the_embedded_tree() {
        let dir = shipped_dir();
        assert_eq!(Origin::configured(Some(&dir)), Origin::Dir(dir));
        // The tests run in the checkout, whose responses/ is used when none is configured.
        assert_eq!(
            Origin::configured(None),
            Origin::Dir(PathBuf::from("responses"))
        );
        let (error, _) = load_error(Path::new("/nonexistent/responses"));
        assert!(matches!(error, ResponsesError::MissingTemplate { .. }));
        assert_eq!(Origin::Embedded.to_string(), "the embedded responses/");
    }

    #[test]
    fn responses_can_be_shared_between_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Responses>();
    }

    #[test]
    fn every_acknowledgment_renders_in_both_languages_with_the_reference_and_the_right_numbers() {
        let responses = shipped();
        let ctx = context();
        for lang in Language::ALL {
            for category in Category::ALL {
                let text = responses
                    .acknowledgment(lang, category, &ctx, None)
                    .unwrap();
                let label = format!("{lang} {category} acknowledgment:\n{text}");
                assert!(text.contains("G-2026-00042"), "{label}");
                assert!(text.contains("819 555-0100"), "{label}");
                if category == Category::Urgent {
                    assert!(text.contains("911"), "{label}");
                    assert!(text.contains("819 555-0199"), "{label}");
                } else {
                    let due = Responses::format_due(lang, ctx.due_at, ctx.tz);
                    assert!(text.contains(&due), "{label}");
                    assert!(!text.contains("911"), "{label}");
                }
            }
        }
    }

    #[test]
    fn acknowledgments_greet_the_citizen_in_their_language() {
        let responses = shipped();
        let ctx = context();
        for category in Category::ALL {
            let fr = responses
                .acknowledgment(Language::Fr, category, &ctx, None)
                .unwrap();
            let en = responses
                .acknowledgment(Language::En, category, &ctx, None)
                .unwrap();
            assert!(fr.starts_with("Bonjour,"), "{fr}");
            assert!(en.starts_with("Hello,"), "{en}");
        }
        let complaint = responses
            .acknowledgment(Language::Fr, Category::Complaint, &ctx, None)
            .unwrap();
        assert!(
            complaint.contains("d’ici le lundi 23 novembre 2026 à 14 h 30"),
            "{complaint}"
        );
        let info = responses
            .acknowledgment(Language::En, Category::Info, &ctx, None)
            .unwrap();
        assert!(
            info.contains("By Monday, November 23, 2026 at 2:30 p.m., a member"),
            "{info}"
        );
    }

    #[test]
    fn urgent_acknowledgment_never_promises_a_delay() {
        let responses = shipped();
        let ctx = context();
        for lang in Language::ALL {
            let text = responses
                .acknowledgment(lang, Category::Urgent, &ctx, None)
                .unwrap();
            for promise in ["48", "24 à 48", "24-48", "24–48", "24 h", "24 hours"] {
                assert!(!text.contains(promise), "{lang}: {promise:?} in\n{text}");
            }
            let due = Responses::format_due(lang, ctx.due_at, ctx.tz);
            assert!(!text.contains(&due), "{lang}: the due time in\n{text}");
            assert_eq!(promised_delay(&text), None, "{lang}:\n{text}");
        }
    }

    #[test]
    fn urgent_acknowledgment_ignores_a_faq_answer() {
        let responses = shipped();
        let text = responses
            .acknowledgment(
                Language::Fr,
                Category::Urgent,
                &context(),
                Some("Une réponse."),
            )
            .unwrap();
        assert!(!text.contains("Une réponse."), "{text}");
    }

    #[test]
    fn info_acknowledgment_gives_the_faq_answer_first_and_invites_a_reply() {
        let responses = shipped();
        let ctx = context();
        for (lang, write_back) in [
            (Language::Fr, "écrivez-nous de nouveau"),
            (Language::En, "write back"),
        ] {
            let answer = responses
                .faq(lang, "a quelle heure ouvre l hotel de ville", &ctx)
                .unwrap()
                .or_else(|| responses.faq(lang, "city hall hours", &ctx).unwrap())
                .expect("a city hall answer")
                .answer;
            let text = responses
                .acknowledgment(lang, Category::Info, &ctx, Some(&answer))
                .unwrap();
            let answer_at = text
                .find(&answer)
                .expect("the answer in the acknowledgment");
            let phone_at = text.find("819 555-0100").unwrap();
            assert!(answer_at < phone_at, "{text}");
            assert!(text.contains(write_back), "{text}");
            assert!(text.contains("G-2026-00042"), "{text}");
            // Not forwarded, so no agent's answer is promised by the due time.
            let due = Responses::format_due(lang, ctx.due_at, ctx.tz);
            assert!(!text.contains(&due), "{text}");
        }
    }

    #[test]
    fn warning_cites_the_netiquette_the_masking_and_the_blocking() {
        let responses = shipped();
        let ctx = context();
        let fr = responses.warning(Language::Fr, &ctx).unwrap();
        for expected in [
            "injurieux, discriminatoires ou diffamatoires",
            "nétiquette",
            "masqués",
            "bloqué",
        ] {
            assert!(fr.contains(expected), "{expected:?} in\n{fr}");
        }
        let en = responses.warning(Language::En, &ctx).unwrap();
        for expected in [
            "insulting, discriminatory or defamatory",
            "netiquette",
            "masked",
            "blocked",
        ] {
            assert!(en.contains(expected), "{expected:?} in\n{en}");
        }
    }

    #[test]
    fn rendered_text_is_tidy_and_fully_substituted() {
        for (label, text) in every_rendering(&shipped()) {
            assert!(!text.is_empty(), "{label}");
            assert!(!text.contains("\n\n\n"), "{label}:\n{text}");
            assert!(!text.starts_with(char::is_whitespace), "{label}");
            assert!(
                text.lines().all(|line| line == line.trim_end()),
                "{label}:\n{text}"
            );
            assert!(
                !text.contains("{{") && !text.contains("{%"),
                "{label}:\n{text}"
            );
        }
    }

    #[test]
    fn no_sentence_ends_with_a_doubled_period() {
        // "2:30 p.m." at the end of a sentence would read "p.m..": English templates put the
        // due time before the end of the sentence.
        for (label, text) in every_rendering(&shipped()) {
            assert!(!text.contains(".."), "{label}:\n{text}");
        }
    }

    #[test]
    fn french_text_uses_french_quotation_marks() {
        for (label, text) in every_rendering(&shipped()) {
            if label.starts_with("fr") {
                assert!(!text.contains('"'), "{label}:\n{text}");
            }
        }
    }

    #[test]
    fn faq_answers_point_to_the_website_or_customer_service() {
        for (label, text) in every_rendering(&shipped()) {
            if label.contains("FAQ") {
                assert!(
                    text.contains("https://www.saint-exemple.qc.ca")
                        && text.contains("819 555-0100"),
                    "{label}:\n{text}"
                );
            }
        }
    }

    #[test]
    fn tidy_trims_line_ends_and_keeps_at_most_one_blank_line() {
        assert_eq!(
            tidy("\n\nBonjour,  \n\n\n\nMerci.\t\nFin.\n\n"),
            "Bonjour,\n\nMerci.\nFin."
        );
        assert_eq!(tidy("a\r\n\r\nb"), "a\n\nb");
    }

    #[test]
    fn french_due_time_is_local_in_eastern_standard_time() {
        assert_eq!(
            Responses::format_due(Language::Fr, utc(2026, 11, 23, 19, 30), Montreal),
            "le lundi 23 novembre 2026 à 14 h 30"
        );
    }

    #[test]
    fn french_due_time_is_local_in_eastern_daylight_time() {
        assert_eq!(
            Responses::format_due(Language::Fr, utc(2026, 7, 15, 18, 5), Montreal),
            "le mercredi 15 juillet 2026 à 14 h 05"
        );
    }

    #[test]
    fn french_due_time_writes_the_first_of_the_month_and_whole_hours_the_quebec_way() {
        // 3:00 UTC on March 2 is still March 1 in Montreal.
        assert_eq!(
            Responses::format_due(Language::Fr, utc(2026, 3, 2, 3, 0), Montreal),
            "le dimanche 1er mars 2026 à 22 h"
        );
        assert_eq!(
            Responses::format_due(Language::Fr, utc(2026, 12, 1, 14, 0), Montreal),
            "le mardi 1er décembre 2026 à 9 h"
        );
    }

    #[test]
    fn english_due_time_uses_a_twelve_hour_clock() {
        assert_eq!(
            Responses::format_due(Language::En, utc(2026, 11, 23, 19, 30), Montreal),
            "Monday, November 23, 2026 at 2:30 p.m."
        );
        assert_eq!(
            Responses::format_due(Language::En, utc(2026, 7, 15, 16, 0), Montreal),
            "Wednesday, July 15, 2026 at 12 p.m."
        );
        assert_eq!(
            Responses::format_due(Language::En, utc(2027, 1, 1, 5, 5), Montreal),
            "Friday, January 1, 2027 at 12:05 a.m."
        );
    }

    #[test]
    fn faq_answers_realistic_questions_in_both_languages() {
        let responses = shipped();
        let ctx = context();
        let questions = [
            (
                Language::Fr,
                "bonjour a quelle heure ouvre l hotel de ville demain",
                "city-hall-hours",
            ),
            (
                Language::Fr,
                "c est quoi les heures d ouverture de l hotel de vile svp",
                "city-hall-hours",
            ),
            (
                Language::Fr,
                "c est quand les vidanges dans mon quartier",
                "garbage-recycling-collection",
            ),
            (
                Language::Fr,
                "quel jour passe le recyclage sur la rue des erables",
                "garbage-recycling-collection",
            ),
            (
                Language::Fr,
                "c est quand la ceuillette des encombrants",
                "garbage-recycling-collection",
            ),
            (
                Language::Fr,
                "est ce que j ai besoin d un permis pour une piscine hors terre",
                "permits",
            ),
            (
                Language::Fr,
                "comment faire une demande de permi pour renover ma galerie",
                "permits",
            ),
            (
                Language::Fr,
                "la biblio est tu ouverte dimanche",
                "library-hours",
            ),
            (
                Language::Fr,
                "quel est l horaire de la bibliotheque pendant les fetes",
                "library-hours",
            ),
            (
                Language::Fr,
                "comment payer mes taxes municipales en ligne",
                "pay-taxes",
            ),
            (
                Language::Fr,
                "c est quand l echeance du deuxieme versement de taxe",
                "pay-taxes",
            ),
            (
                Language::En,
                "what time does city hall open on friday",
                "city-hall-hours",
            ),
            (
                Language::En,
                "what are the cityhall hours",
                "city-hall-hours",
            ),
            (
                Language::En,
                "when is garbage day on my street",
                "garbage-recycling-collection",
            ),
            (
                Language::En,
                "whats the recycling pickup schedule",
                "garbage-recycling-collection",
            ),
            (Language::En, "do i need a permit for a fence", "permits"),
            (Language::En, "how do i get a building permit", "permits"),
            (
                Language::En,
                "what are the library hours this weekend",
                "library-hours",
            ),
            (
                Language::En,
                "is the libary open on sunday",
                "library-hours",
            ),
            (
                Language::En,
                "how can i pay my property taxes online",
                "pay-taxes",
            ),
            (Language::En, "when is my tax bill due", "pay-taxes"),
        ];
        for (lang, text, id) in questions {
            let found = responses.faq(lang, text, &ctx).unwrap();
            let found = found.unwrap_or_else(|| panic!("{lang} {text:?} matched nothing"));
            assert_eq!(found.id, id, "{lang} {text:?}");
            assert!(found.answer.contains("819 555-0100"), "{}", found.answer);
        }
        for entry in &responses.faq {
            for lang in Language::ALL {
                assert!(
                    questions
                        .iter()
                        .any(|(l, _, id)| *l == lang && *id == entry.id),
                    "no {lang} question for {}",
                    entry.id
                );
            }
        }
    }

    #[test]
    fn missed_pickup_complaints_do_not_get_the_collection_calendar() {
        // The pipeline only consults the FAQ for info requests, so a complaint never reaches
        // it; the patterns still keep these out in case one is misclassified as info.
        let responses = shipped();
        let ctx = context();
        for (lang, text) in [
            (Language::Fr, "les vidanges ont pas ete ramassees ostie"),
            (Language::Fr, "ca fait 3 jours que mes vidanges sont dehors"),
            (Language::Fr, "mon bac de recyclage a ete oublie encore"),
            (Language::En, "my garbage was not picked up again"),
        ] {
            assert_eq!(responses.faq(lang, text, &ctx).unwrap(), None, "{text:?}");
        }
    }

    #[test]
    fn faq_leaves_unrelated_messages_unanswered() {
        let responses = shipped();
        let ctx = context();
        for (lang, text) in [
            (
                Language::Fr,
                "il y a un nid de poule enorme sur la rue principale",
            ),
            (Language::Fr, "c est quand la vidange de ma fosse septique"),
            (Language::En, "there is water coming out of the street"),
            // French words do not match with the English patterns.
            (Language::En, "heures d ouverture de l hotel de ville"),
        ] {
            assert_eq!(responses.faq(lang, text, &ctx).unwrap(), None, "{text:?}");
        }
    }

    #[test]
    fn patterns_match_whole_words_or_declared_prefixes_in_any_order() {
        let pattern = Pattern::parse("heure* hotel ville").unwrap();
        assert!(pattern.matches(&["ville", "l", "hotel", "heures"]));
        assert!(!pattern.matches(&["heures", "hotelier", "ville"]));
        assert!(!pattern.matches(&["heures", "hotel"]));
        let permit = Pattern::parse("permis").unwrap();
        assert!(!permit.matches(&["permission"]));
    }

    #[test]
    fn patterns_that_could_never_match_are_rejected() {
        for bad in ["", "   ", "heure* hôtel", "Hotel", "*", "hot*el"] {
            assert!(Pattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn delay_check_catches_promises_and_allows_an_always_open_line() {
        for promise in [
            "Nous vous répondrons d’ici 24 à 48 h.",
            "We answer within 24-48 hours.",
            "Réponse en 24–48 h",
            "Nous vous répondrons dans 2 jours ouvrables.",
            "We will reply within 3 business days.",
            "Réponse sous 24h.",
            "Nous vous rappellerons dans l’heure.",
            "We will call you back by 5 p.m.",
            "d’ici quarante-huit heures",
        ] {
            assert!(promised_delay(promise).is_some(), "{promise:?}");
        }
        for fine in [
            "la ligne des travaux publics, accessible 24 heures sur 24, 7 jours sur 7",
            "the public works line, available 24/7",
            "ouverte 24 h/24",
            "composez le 911",
            "le 1er décembre, au 819 555-0100",
        ] {
            assert_eq!(promised_delay(fine), None, "{fine:?}");
        }
    }

    #[test]
    fn load_fails_naming_the_file_when_a_template_is_missing() {
        let dir = copy_of_shipped_tree();
        let removed = dir.path().join("en").join("ack_complaint.j2");
        fs::remove_file(&removed).unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::MissingTemplate { .. }),
            "{message}"
        );
        assert!(
            message.contains(&removed.display().to_string()),
            "{message}"
        );
        assert!(message.contains("en/ack_complaint.j2"), "{message}");
    }

    #[test]
    fn load_fails_with_the_line_when_a_template_has_a_syntax_error() {
        let dir = copy_of_shipped_tree();
        let broken = dir.path().join("fr").join("warning.j2");
        fs::write(&broken, "Bonjour,\n\nVoici {{ website }\n").unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::TemplateSyntax { .. }),
            "{message}"
        );
        assert!(message.contains("fr/warning.j2"), "{message}");
        assert!(message.contains("line 3"), "{message}");
    }

    #[test]
    fn load_fails_when_an_urgent_acknowledgment_mentions_48_hours() {
        let dir = copy_of_shipped_tree();
        append(
            &dir.path().join("fr").join("ack_urgent.j2"),
            "\nNous vous répondrons d’ici 24 à 48 h.\n",
        );
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::UrgentDelay { .. }),
            "{message}"
        );
        assert!(message.contains("fr/ack_urgent.j2"), "{message}");
        assert!(message.contains("24 à 48 h"), "{message}");
    }

    #[test]
    fn load_fails_when_an_urgent_acknowledgment_shows_the_due_time() {
        let dir = copy_of_shipped_tree();
        append(
            &dir.path().join("en").join("ack_urgent.j2"),
            "\nWe will answer by {{ due }}.\n",
        );
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::UrgentDelay { .. }),
            "{message}"
        );
        assert!(message.contains("en/ack_urgent.j2"), "{message}");
    }

    #[test]
    fn load_fails_when_faq_toml_references_a_missing_template() {
        let dir = copy_of_shipped_tree();
        append(
            &dir.path().join("faq.toml"),
            "\n[[entry]]\nid = \"snow-removal\"\nfr = [\"deneig*\"]\nen = [\"snow* removal\"]\n",
        );
        fs::write(
            dir.path().join("fr").join("faq").join("snow-removal.j2"),
            "Le déneigement se fait selon les priorités publiées sur {{ website }}.\n",
        )
        .unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::MissingFaqAnswer { .. }),
            "{message}"
        );
        assert!(message.contains("snow-removal"), "{message}");
        assert!(message.contains("English"), "{message}");
        assert!(message.contains("en/faq/snow-removal.j2"), "{message}");
    }

    #[test]
    fn load_fails_naming_an_unknown_variable() {
        let dir = copy_of_shipped_tree();
        append(
            &dir.path().join("en").join("warning.j2"),
            "\nCall {{ phone }}.\n",
        );
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::UnknownVariable { .. }),
            "{message}"
        );
        assert!(message.contains("en/warning.j2"), "{message}");
        assert!(message.contains("`phone`"), "{message}");
    }

    #[test]
    fn load_fails_when_an_acknowledgment_leaves_out_the_reference() {
        let dir = copy_of_shipped_tree();
        let path = dir.path().join("fr").join("ack_complaint.j2");
        let without = fs::read_to_string(&path)
            .unwrap()
            .replace("{{ reference }}", "(voir plus haut)");
        fs::write(&path, without).unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::MissingContent { .. }),
            "{message}"
        );
        assert!(message.contains("fr/ack_complaint.j2"), "{message}");
        assert!(message.contains("{{ reference }}"), "{message}");
    }

    #[test]
    fn load_fails_when_the_info_acknowledgment_tests_a_possibly_undefined_answer() {
        let dir = copy_of_shipped_tree();
        let path = dir.path().join("en").join("ack_info.j2");
        let careless = fs::read_to_string(&path)
            .unwrap()
            .replace("faq_answer is defined", "faq_answer");
        fs::write(&path, careless).unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::TemplateRender { .. }),
            "{message}"
        );
        assert!(message.contains("en/ack_info.j2"), "{message}");
    }

    #[test]
    fn load_fails_on_a_faq_index_that_is_not_valid_toml() {
        let dir = copy_of_shipped_tree();
        append(&dir.path().join("faq.toml"), "\n[[entry]\n");
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::InvalidFaqIndex { .. }),
            "{message}"
        );
        assert!(message.contains("faq.toml"), "{message}");
        assert!(message.contains("line "), "{message}");
        assert!(!message.contains('\n'), "{message}");
    }

    #[test]
    fn load_fails_on_a_faq_pattern_with_an_accent() {
        let dir = copy_of_shipped_tree();
        let path = dir.path().join("faq.toml");
        let accented = fs::read_to_string(&path)
            .unwrap()
            .replace("\"heure* hotel vil*\"", "\"heure* hôtel vil*\"");
        fs::write(&path, accented).unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::InvalidFaqIndex { .. }),
            "{message}"
        );
        assert!(message.contains("hôtel"), "{message}");
        assert!(message.contains("city-hall-hours"), "{message}");
    }

    #[test]
    fn load_fails_on_a_faq_entry_without_patterns_in_one_language() {
        let dir = copy_of_shipped_tree();
        append(
            &dir.path().join("faq.toml"),
            "\n[[entry]]\nid = \"snow-removal\"\nfr = [\"deneig*\"]\nen = []\n",
        );
        let (_, message) = load_error(dir.path());
        assert!(message.contains("faq.toml"), "{message}");
        assert!(message.contains("no English patterns"), "{message}");
    }

    #[test]
    fn load_fails_when_the_faq_index_is_missing() {
        let dir = copy_of_shipped_tree();
        fs::remove_file(dir.path().join("faq.toml")).unwrap();
        let (error, message) = load_error(dir.path());
        assert!(
            matches!(error, ResponsesError::MissingFaqIndex { .. }),
            "{message}"
        );
        assert!(message.contains("faq.toml"), "{message}");
    }
}
