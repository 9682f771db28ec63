//! Categories of a request and the languages guichet answers in.
//!
//! Pure values: no I/O. `Category` is ordered by severity so that a thread's category can
//! only be raised (`max`), never lowered silently.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What a request needs, ordered from least to most pressing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// A general question; may be answered from the FAQ.
    Info,
    /// A complaint or a non-urgent service request; always forwarded.
    Complaint,
    /// An emergency or an active hazard; always forwarded, shortest target.
    Urgent,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Urgent, Category::Info, Category::Complaint];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Info => "info",
            Category::Complaint => "complaint",
            Category::Urgent => "urgent",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" => Ok(Category::Info),
            "complaint" => Ok(Category::Complaint),
            "urgent" => Ok(Category::Urgent),
            other => Err(format!(
                "unknown category \"{other}\" (expected urgent, info or complaint)"
            )),
        }
    }
}

/// The languages citizens are answered in; French first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    Fr,
    En,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::Fr, Language::En];

    pub fn as_str(self) -> &'static str {
        match self {
            Language::Fr => "fr",
            Language::En => "en",
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Language {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fr" => Ok(Language::Fr),
            "en" => Ok(Language::En),
            other => Err(format!("unknown language \"{other}\" (expected fr or en)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urgent_outranks_complaint_which_outranks_info() {
        assert!(Category::Urgent > Category::Complaint);
        assert!(Category::Complaint > Category::Info);
        assert_eq!(Category::Info.max(Category::Urgent), Category::Urgent);
    }

    #[test]
    fn categories_and_languages_parse_from_their_names() {
        for c in Category::ALL {
            assert_eq!(c.as_str().parse::<Category>(), Ok(c));
        }
        assert!("spam".parse::<Category>().is_err());
        assert_eq!(" FR ".parse::<Language>(), Ok(Language::Fr));
    }
}
