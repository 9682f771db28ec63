//! Everything the desk's pages say, in French and in English: one table of keys, each with
//! its French and English text, handed to the templates as `t`. A test checks that every key
//! a template uses is in the table.

use std::collections::BTreeMap;

use chrono::Duration;

use crate::domain::Language;

/// (key, French, English).
const TEXTS: &[(&str, &str, &str)] = &[
    ("desk", "Bureau du guichet", "guichet desk"),
    ("skip", "Aller au contenu", "Skip to content"),
    ("nav_queue", "File", "Queue"),
    ("nav_report", "Rapport", "Report"),
    ("sign_out", "Se déconnecter", "Sign out"),
    ("signed_in_as", "Connecté·e :", "Signed in:"),
    ("role_agent", "agent", "agent"),
    ("role_coordinator", "coordonnateur·rice", "coordinator"),
    ("other_language", "English", "Français"),
    ("other_language_code", "en", "fr"),
    ("login_title", "Connexion au bureau", "Sign in to the desk"),
    ("token_label", "Jeton du personnel", "Staff token"),
    (
        "token_help",
        "Le jeton reçu de « guichet staff add », ou celui de GUICHET__STAFF__TOKEN.",
        "The token given by “guichet staff add”, or the one in GUICHET__STAFF__TOKEN.",
    ),
    ("sign_in", "Se connecter", "Sign in"),
    (
        "login_failed",
        "Ce jeton n’est celui de personne, ou il a été révoqué.",
        "This token is no one’s, or it was revoked.",
    ),
    ("signed_out", "Vous êtes déconnecté·e.", "You are signed out."),
    ("queue_title", "File des fils", "Thread queue"),
    ("filters", "Filtres", "Filters"),
    ("filter_state", "État", "State"),
    ("filter_category", "Catégorie", "Category"),
    ("filter_channel", "Canal", "Channel"),
    ("filter_agent", "Agent", "Agent"),
    ("any", "Tous", "Any"),
    ("apply", "Filtrer", "Filter"),
    (
        "view_queue",
        "À traiter (en retard et à risque d’abord)",
        "To do (overdue and at risk first)",
    ),
    ("view_open", "Ouverts", "Open"),
    ("view_at_risk", "À risque", "At risk"),
    ("view_overdue", "En retard", "Overdue"),
    ("view_answered", "Répondus", "Answered"),
    ("view_resolved", "Résolus", "Resolved"),
    ("view_all", "Tous", "All"),
    ("col_reference", "Référence", "Reference"),
    ("col_category", "Catégorie", "Category"),
    ("col_channel", "Canal", "Channel"),
    ("col_opened", "Ouvert le", "Opened"),
    ("col_sla", "Délai", "Response time"),
    ("col_due", "Échéance", "Due"),
    ("col_agent", "Agent", "Agent"),
    ("col_state", "État", "State"),
    ("next_page", "Page suivante", "Next page"),
    ("first_page", "Première page", "First page"),
    ("no_threads", "Aucun fil ne correspond.", "No thread matches."),
    ("sla_on_track", "Dans les temps", "On track"),
    ("sla_at_risk", "À risque", "At risk"),
    ("sla_overdue", "En retard", "Overdue"),
    ("sla_met", "Respecté", "Met"),
    ("sla_missed", "Manqué", "Missed"),
    ("cat_urgent", "Urgent", "Urgent"),
    ("cat_info", "Information", "Information"),
    ("cat_complaint", "Plainte", "Complaint"),
    ("st_open", "Ouvert", "Open"),
    ("st_acknowledged", "Accusé de réception envoyé", "Acknowledged"),
    ("st_forwarded", "Transmis", "Forwarded"),
    ("st_answered", "Répondu", "Answered"),
    ("st_resolved", "Résolu", "Resolved"),
    ("kind_citizen", "Citoyen·ne", "Citizen"),
    ("kind_acknowledgment", "Accusé de réception", "Acknowledgment"),
    ("kind_warning", "Avertissement", "Warning"),
    ("kind_agent", "Agent", "Agent"),
    ("kind_note", "Note interne", "Internal note"),
    ("thread_title", "Fil", "Thread"),
    ("messages", "Messages", "Messages"),
    ("audit", "Journal", "Audit trail"),
    ("col_when", "Quand", "When"),
    ("col_what", "Quoi", "What"),
    ("col_who", "Qui", "Who"),
    ("col_detail", "Détail", "Detail"),
    ("masked", "copie masquée", "masked copy"),
    ("actions", "Actions", "Actions"),
    ("answer", "Répondre", "Answer"),
    (
        "answer_label",
        "Votre réponse au citoyen (envoyée sur son canal)",
        "Your answer to the citizen (sent on their channel)",
    ),
    ("send", "Envoyer la réponse", "Send the answer"),
    ("claim", "Prendre en charge", "Claim"),
    ("resolve", "Résoudre", "Resolve"),
    ("recategorise", "Changer la catégorie", "Change the category"),
    ("category_label", "Nouvelle catégorie", "New category"),
    ("change", "Changer", "Change"),
    ("claimed_by", "Pris en charge par", "Claimed by"),
    ("nobody", "personne", "nobody"),
    ("done_answered", "Réponse envoyée.", "Answer sent."),
    ("done_claimed", "Fil pris en charge.", "Thread claimed."),
    ("done_resolved", "Fil résolu.", "Thread resolved."),
    ("done_recategorised", "Catégorie changée.", "Category changed."),
    ("err_empty_answer", "La réponse est vide.", "The answer is empty."),
    (
        "err_long_answer",
        "La réponse est trop longue.",
        "The answer is too long.",
    ),
    ("report_title", "Rapport des délais de réponse", "Response-time report"),
    ("from", "Du", "From"),
    ("to", "Au", "To"),
    ("show", "Afficher", "Show"),
    (
        "export",
        "Exporter en CSV (un fil par ligne)",
        "Export as CSV (one thread per line)",
    ),
    ("by_category", "Par catégorie", "By category"),
    ("by_channel", "Par canal", "By channel"),
    ("by_agent", "Par agent", "By agent"),
    ("col_threads", "Fils", "Threads"),
    ("col_met", "Respectés", "Met"),
    ("col_missed", "Manqués", "Missed"),
    ("col_compliance", "Conformité (%)", "Compliance (%)"),
    ("col_median", "Médiane (min)", "Median (min)"),
    ("col_p90", "90e centile (min)", "90th percentile (min)"),
    ("col_overdue", "En retard, ouverts", "Overdue, open"),
    ("col_answers", "Réponses", "Answers"),
    ("col_met_percent", "Respectés (%)", "Met (%)"),
    (
        "chart_weeks",
        "Conformité par semaine ISO et par catégorie",
        "Compliance by ISO week and category",
    ),
    (
        "chart_distribution",
        "Délais de première réponse (heures comptées selon la catégorie)",
        "First-response times (hours counted as each category counts them)",
    ),
    ("col_week", "Semaine", "Week"),
    ("col_bucket", "Délai", "Time"),
    ("col_count", "Fils", "Threads"),
    (
        "no_data",
        "Aucun fil ouvert pendant cette période.",
        "No thread opened in this period.",
    ),
    ("err_title", "La demande n’a pas abouti", "The request did not go through"),
    (
        "err_coordinators",
        "Cette page est réservée aux coordonnateurs.",
        "This page is for coordinators.",
    ),
    (
        "err_csrf",
        "Ce formulaire a expiré ou ne vient pas du bureau : rien n’a été changé. Rechargez la page et recommencez.",
        "This form expired or did not come from the desk: nothing was changed. Reload the page and try again.",
    ),
    ("err_not_found", "Ce fil n’existe pas.", "There is no such thread."),
    (
        "err_conflict",
        "Cette action n’est plus possible sur ce fil :",
        "This action is no longer possible on this thread:",
    ),
    (
        "err_unavailable",
        "guichet ne peut rien enregistrer pour le moment ; rien n’a été changé, réessayez plus tard.",
        "guichet cannot store anything right now; nothing was changed, please retry later.",
    ),
    (
        "err_failed",
        "La demande a échoué ; rien n’a été enregistré.",
        "The request failed; nothing was recorded.",
    ),
    ("err_bad_request", "La demande est mal formée :", "The request is malformed:"),
    ("back", "Retour à la file", "Back to the queue"),
    ("nav_privacy", "Renseignements personnels", "Personal information"),
    (
        "privacy_title",
        "Renseignements personnels : demandes et incidents",
        "Personal information: requests and incidents",
    ),
    (
        "privacy_intro",
        "Demandes d’accès et d’effacement des citoyens (délai légal : 20 jours civils, une prolongation de 10 jours avec avis) et registre des incidents de confidentialité. Voir « guichet citizen » et « guichet privacy-incident ».",
        "Citizens’ access and erasure requests (legal time limit: 20 calendar days, one 10-day extension with notice) and the register of confidentiality incidents. See “guichet citizen” and “guichet privacy-incident”.",
    ),
    (
        "requests_near",
        "Demandes à échéance dans 5 jours ou en retard",
        "Requests due within 5 days or late",
    ),
    (
        "requests_none_near",
        "Aucune demande n’arrive à échéance.",
        "No request is nearing its due date.",
    ),
    ("requests_open_count", "Demandes ouvertes :", "Open requests:"),
    ("col_request", "Demande", "Request"),
    ("col_kind", "Type", "Kind"),
    ("kind_access", "accès", "access"),
    ("kind_erasure", "effacement", "erasure"),
    ("col_citizen", "Citoyen·ne", "Citizen"),
    ("col_received", "Reçue le", "Received"),
    ("col_days_left", "Jours restants", "Days left"),
    ("extended", "prolongée", "extended"),
    (
        "incidents_title",
        "Registre des incidents de confidentialité",
        "Register of confidentiality incidents",
    ),
    (
        "incidents_none",
        "Aucun incident n’est inscrit au registre.",
        "No incident is in the register.",
    ),
    ("col_incident", "N°", "No."),
    ("col_happened", "Ce qui s’est passé", "What happened"),
    ("col_known_on", "Connu le", "Known on"),
    ("col_data", "Renseignements visés", "Information concerned"),
    ("col_people", "Personnes", "People"),
    ("col_risk", "Évaluation du risque", "Risk assessment"),
    ("serious", "risque de préjudice sérieux", "risk of serious injury"),
    ("col_measures", "Mesures prises", "Measures taken"),
    ("col_notifications", "Avis transmis", "Notices sent"),
    ("col_recorded_by", "Inscrit par", "Recorded by"),
];

/// The texts of one language, by key.
pub fn table(language: Language) -> BTreeMap<&'static str, &'static str> {
    TEXTS
        .iter()
        .map(|(k, fr, en)| (*k, if language == Language::En { *en } else { *fr }))
        .collect()
}

/// Whether `key` is in the table.
#[cfg(test)]
pub fn has(key: &str) -> bool {
    TEXTS.iter().any(|(k, _, _)| *k == key)
}

/// How long until a due time, or how late: "reste 3 h 05" / "3 h 05 left", "en retard de
/// 2 j 4 h" / "2 d 4 h late".
pub fn time_left(left: Duration, language: Language) -> String {
    let late = left < Duration::zero();
    let minutes = left.num_minutes().abs();
    let (days, hours, mins) = (minutes / 1440, (minutes % 1440) / 60, minutes % 60);
    let day = if language == Language::En { "d" } else { "j" };
    let span = if days > 0 {
        format!("{days} {day} {hours} h")
    } else {
        format!("{hours} h {mins:02}")
    };
    match (language, late) {
        (Language::Fr, false) => format!("reste {span}"),
        (Language::Fr, true) => format!("en retard de {span}"),
        (Language::En, false) => format!("{span} left"),
        (Language::En, true) => format!("{span} late"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_has_one_entry_and_both_languages() {
        let mut keys: Vec<_> = TEXTS.iter().map(|(k, _, _)| *k).collect();
        keys.sort_unstable();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before, "a key is listed twice");
        assert!(TEXTS
            .iter()
            .all(|(_, fr, en)| !fr.is_empty() && !en.is_empty()));
    }

    #[test]
    fn time_left_and_time_late_read_in_both_languages() {
        assert_eq!(
            time_left(Duration::minutes(185), Language::Fr),
            "reste 3 h 05"
        );
        assert_eq!(
            time_left(Duration::minutes(-(2 * 1440 + 4 * 60 + 10)), Language::En),
            "2 d 4 h late"
        );
        assert_eq!(
            time_left(Duration::minutes(-30), Language::Fr),
            "en retard de 0 h 30"
        );
    }
}
