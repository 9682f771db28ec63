//! Concepts: what a message is about, in the words citizens actually use, grouped into the
//! few situations that decide triage.
//!
//! Owns the [`Concept`] groups (a person at risk, a vulnerable person deprived of care, heat
//! or water, blocked access, failing safety equipment, an ongoing outage, utility billing) and
//! which phrase topics of the lexicon (in `rules`) belong to which group. The phrases
//! themselves live in the same table as the hazard phrases, so they share its tolerance of
//! accents, SMS spellings and typos, and its guards (past, planned, hypothetical, billing,
//! figurative). A concept serves three purposes: a model feature (a word never seen in
//! training still counts through its concept), a safety net (the danger-to-persons groups
//! raise to urgent), and a row of the per-concept table of `guichet eval`. No I/O.

use serde::Serialize;

/// A situation that decides triage, whatever words describe it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Concept {
    /// Someone injured, burned, trapped, buried, unable to breathe, calling for help, or
    /// without food or water.
    PersonAtRisk,
    /// A vulnerable person (elderly, baby, sick) without medication, heat or water, or
    /// dependent on medical equipment.
    VulnerablePerson,
    /// An ambulance or fire truck that cannot get through, people who cannot get out.
    BlockedAccess,
    /// A railway crossing barrier, traffic lights, an alarm that keeps ringing, a chemical
    /// smell.
    SafetyEquipment,
    /// Water, power or heat missing now, told as a situation ("no power since 7 pm").
    OngoingOutage,
    /// A bill, a tax or a rate about water, power or gas: not an emergency, whatever words
    /// it uses.
    UtilityBilling,
}

impl Concept {
    pub const ALL: [Concept; 6] = [
        Concept::PersonAtRisk,
        Concept::VulnerablePerson,
        Concept::BlockedAccess,
        Concept::SafetyEquipment,
        Concept::OngoingOutage,
        Concept::UtilityBilling,
    ];

    /// The name shown in `guichet eval` and used as a feature name.
    pub fn as_str(self) -> &'static str {
        match self {
            Concept::PersonAtRisk => "person at risk",
            Concept::VulnerablePerson => "vulnerable person",
            Concept::BlockedAccess => "blocked access",
            Concept::SafetyEquipment => "failing safety equipment",
            Concept::OngoingOutage => "ongoing outage",
            Concept::UtilityBilling => "utility billing",
        }
    }

    /// The model feature of the concept, found armed or not.
    pub(crate) fn cue(self) -> &'static str {
        match self {
            Concept::PersonAtRisk => "concept:person-at-risk",
            Concept::VulnerablePerson => "concept:vulnerable",
            Concept::BlockedAccess => "concept:blocked-access",
            Concept::SafetyEquipment => "concept:safety-equipment",
            Concept::OngoingOutage => "concept:ongoing-outage",
            Concept::UtilityBilling => "concept:utility-billing",
        }
    }

    /// The model feature of the concept found armed: current, not billing, not figurative.
    pub(crate) fn armed_cue(self) -> &'static str {
        match self {
            Concept::PersonAtRisk => "concept:person-at-risk:armed",
            Concept::VulnerablePerson => "concept:vulnerable:armed",
            Concept::BlockedAccess => "concept:blocked-access:armed",
            Concept::SafetyEquipment => "concept:safety-equipment:armed",
            Concept::OngoingOutage => "concept:ongoing-outage:armed",
            Concept::UtilityBilling => "concept:utility-billing:armed",
        }
    }

    /// The concept a phrase topic of the lexicon belongs to, if any (a gas leak or a
    /// sinkhole is a hazard of its own, not one of the concepts).
    pub(crate) fn of_topic(topic: &str) -> Option<Concept> {
        Some(match topic {
            "person injured"
            | "person hurt"
            | "person burned"
            | "person trapped"
            | "person buried"
            | "cannot breathe"
            | "person unconscious"
            | "call for help"
            | "person fell"
            | "needs food or water"
            | "person in danger"
            | "without shelter" => Concept::PersonAtRisk,
            "without medication"
            | "vulnerable person without heat"
            | "depends on medical equipment"
            | "medical equipment without power"
            | "vulnerable person in danger" => Concept::VulnerablePerson,
            "ambulance cannot reach" | "cannot get out" | "access blocked" => {
                Concept::BlockedAccess
            }
            "railway crossing barrier"
            | "traffic lights out"
            | "alarm ringing"
            | "chemical smell"
            | "chemical"
            | "carbon monoxide"
            | "stop sign down" => Concept::SafetyEquipment,
            "power outage"
            | "no water"
            | "water cut"
            | "no heat"
            | "in the dark"
            | "outage in several homes" => Concept::OngoingOutage,
            "utility billing" => Concept::UtilityBilling,
            _ => return None,
        })
    }
}

impl std::fmt::Display for Concept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_concept_has_a_distinct_name_and_cue() {
        let mut names: Vec<&str> = Concept::ALL.iter().map(|c| c.as_str()).collect();
        let mut cues: Vec<&str> = Concept::ALL.iter().map(|c| c.cue()).collect();
        names.dedup();
        cues.dedup();
        assert_eq!(names.len(), Concept::ALL.len());
        assert_eq!(cues.len(), Concept::ALL.len());
    }
}
