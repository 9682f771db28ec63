//! Safety rules: hazard and concept phrases that raise a message to urgent, whatever the
//! model says.
//!
//! Owns the phrase tables, in French and English: hazards (gas, water, power, sewer,
//! flooding, downed lines, traffic lights, sinkholes...), dangers to persons told without
//! hazard words (someone injured, burned, trapped, buried, unable to breathe, "aidez-nous", a
//! vulnerable person without medication or heat, an ambulance that cannot get through),
//! failing safety equipment (a railway crossing barrier, an alarm that keeps ringing, a
//! chemical smell) and outages told as a situation ("on est dans le noir depuis 19h"); and the
//! context phrases that disarm them: a clearly past or resolved event ("la semaine passée",
//! "was out", "est revenu"), a planned or hypothetical one ("prévue", "en cas de", "what to do
//! if"), unless the same sentence also says it is still going on ("depuis", "encore", "still",
//! "right now"); a bill, a tax or a rate for water, power or gas (which disarms even an
//! ongoing one, and a bare "URGENT" anywhere in a message about money); a figure of speech
//! ("tout va exploser", "dying of boredom", "vous nous laissez dans le noir"). Some phrases
//! are only features for the model (utility billing, "can't get out", complaints phrased as
//! questions). Rules can only raise a category, never lower it: a missed urgent is the worst
//! error the product can make, a false one costs an agent a minute. No I/O.
//!
//! Phrases are matched on normalized tokens, so accents, case, elisions and SMS spellings are
//! already folded; words of five letters or more also match with one typo ("electricte",
//! "inondtion"), unless written `=word`. Between two words of a phrase, up to `gap` other
//! words may stand.

use std::sync::OnceLock;

use super::concepts::Concept;
use super::normalize::{Normalized, Segmented};
use super::phrase::{join, phrase, Marks, PhraseDef, PhraseTable};

/// What a phrase says about the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An active hazard: raises to urgent.
    Hazard,
    /// The event is over: disarms hazards of its sentence.
    Past,
    /// The event is planned or hypothetical: disarms hazards of its sentence.
    NotCurrent,
    /// The event is over, if the sentence does not ask whether it is: disarms.
    Resolved,
    /// A standing problem ("depuis des semaines", "every night"): disarms, and the "depuis"
    /// or "since" inside it is not an ongoing marker.
    Chronic,
    /// The event is going on now: re-arms hazards of its sentence.
    Ongoing,
    /// A denial ("pas urgent"): hazards it overlaps do not count at all.
    Veto,
    /// A bill, a tax or a rate for water, power or gas: disarms every hazard of its sentence,
    /// even one said to be going on ("URGENT ma facture d'électricité a doublé").
    Billing,
    /// A figure of speech ("tout va exploser", "dying of boredom"): disarms the hazards it
    /// overlaps.
    Figurative,
    /// An animal, not a person, is hurt or stuck ("chat errant blessé à la patte"): disarms
    /// the danger-to-a-person phrases it overlaps; the model decides.
    Animal,
    /// A concept that is a feature for the model but raises nothing by itself.
    Cue,
    /// Money, fines, permits, forms: a bare "urgent" or "SOS" anywhere in the message is
    /// about them, not about a danger.
    Admin,
    /// The hazard word names an event, not what is happening ("since the flood", "the spring
    /// flood", "l'aide aux inondés", "ruined in the flood"): disarms the hazards it overlaps,
    /// and the "since" or "depuis" inside it is not an ongoing marker.
    Event,
}

const fn hazard(
    topic: &'static str,
    slots: &'static [&'static str],
    gap: usize,
) -> PhraseDef<Kind> {
    phrase(Kind::Hazard, topic, slots, gap)
}

const fn hazard_unless(
    topic: &'static str,
    slots: &'static [&'static str],
    gap: usize,
    excluding: &'static str,
) -> PhraseDef<Kind> {
    PhraseDef {
        kind: Kind::Hazard,
        topic,
        slots,
        gap,
        excluding,
    }
}

const FAIL_FR: &str = "eteint|eteints|eteinte|eteintes|clignote|clignotent|clignotant|clignotants|panne|defectueux|defectueuse|defectueuses|brise|brises|brisee|brisees|mort|morts|tombe|tombes|accroche|arrache|arraches|plie|couche";
const FAIL_EN: &str = "out|down|off|broken|flashing|dead|blinking|knocked";
const WATER: &str = "eau|water";
const BILLING: &str = "facture|factures|facturation|facturee|=bill|=bills|billing|billed|invoice|invoices|taxe|taxes|tax|tarif|tarifs|rate|rates|frais|fee|fees|paiement|paiements|payment|payments|montant|amount|solde|balance|releve|statement|prelevement|charged|surcharge|augmentation|increase|hausse|kwh|consommation|consumption|abonnement|subscription|remboursement|refund|rebate|subvention|ristourne|estimation|estimated";
const UTILITY: &str = "eau|water|electricite|electricity|electrique|electric|power|hydro|gaz|gas|energie|energy|chauffage|heating|aqueduc|egout|egouts|sewer|sewage|energir|utility|utilities|services";
/// The names of events a message may refer to once they are over ("since the flood").
const EVENT: &str = "flood|floods|flooding|inondation|inondations|blackout|blackouts|storm|storms|tempete|tempetes|verglas|evacuation|evacuations|earthquake|seisme|tremblement|incendie|fire|ouragan|hurricane|tornade|tornado|crue|crues|deluge";
const FLOWING: &str = "bouillonne|bubbling|jaillit|jaillissait|gushing|spraying|pouring|pisse|gicle|jaillir|rushing|blowing|running|coule|sort|leaking|coming";

/// The phrase table. Precision matters more than coverage here: the model catches what the
/// rules miss, the rules make sure the obvious cases are never missed. Each phrase was
/// checked against the training data (see `eval::rule_audit`).
const DEFS: &[PhraseDef<Kind>] = &[
    // Gas, carbon monoxide, chemicals.
    hazard("gas leak", &["odeur|odeurs|senteur|sent|sens|sentir|sentait|sentent|senti", "gaz|gas|propane"], 3),
    hazard("gas leak", &["fuite|fuites|fuit|fuyait", "gaz|gas|propane"], 2),
    hazard("gas leak", &["gas|gaz|propane", "smell|smells|smelling|smelt|odor|odour|leak|leaking|leaks|fuit|fuite|siffle|hissing"], 3),
    hazard("gas leak", &["smell|smells|smelling|smelt|smelled|odor|odour|leak|leaking|reeks|stinks|pue|puait", "gas|gaz|propane"], 3),
    hazard("gas leak", &["oeufs|oeuf|egg|eggs", "pourris|pourri|rotten"], 1),
    hazard("gas leak", &["rotten", "egg|eggs"], 0),
    hazard("gas leak", &["=souffre|=soufre|sulfur|sulphur"], 0),
    hazard("gas leak", &["cause", "du|of|the", "gaz|gas"], 1),
    hazard("carbon monoxide", &["monoxyde|monoxide"], 0),
    hazard("carbon monoxide", &["detecteur|detector|alarme|alarm|avertisseur", "co"], 2),
    hazard("carbon monoxide", &["co", "detector|alarm|detecteur|alarme"], 1),
    hazard("chemical", &["odeur|smell|smells", "chimique|chemical|chemicals|essence|gasoline|brule|burning"], 2),
    hazard("chemical", &["chimique|chemical|chemicals|toxique|toxic|diluant|thinner|mazout|diesel", "ruisseau|creek|riviere|river|fosse|ditch|egout|storm|drain|pluvial|renverse|dumped|spill|deverse|coule"], 8),
    hazard("chemical", &["chlore|chlorine", "toussent|tousse|coughing|cough|pleurer|respirer|breathe|breathing|malaise|dizzy|etourdi"], 12),
    hazard("spill", &["deversement", "huile|essence|produit|produits|mazout|chimique"], 3),
    hazard("spill", &["oil|fuel|chemical|gasoline", "spill|spilled|spilling|leak|leaking"], 2),
    // Water service and drinking water.
    hazard_unless(
        "no water",
        &["plus|pas|manque|sans|aucune|aucun|no|without|zero", WATER],
        1,
        "chaude|chaudes|froide|hot|cold|heater|bill|bills",
    ),
    hazard("no water", &["plus|pas|pu|not|une|a", "goutte|drop"], 1),
    hazard("no water", &["taps|tap|robinet|robinets", "dry|sec|secs|vide|vides"], 3),
    hazard("no water", &["rien|nothing", "robinet|robinets|taps|tap"], 3),
    hazard("no water", &["panne|pannes", "eau"], 1),
    hazard("no water", &["lost|lose|losing|perdu|perdre|perd", "water|eau|pressure|pression"], 2),
    hazard("no water", &["pression|pressure", "nulle|zero|aucune|none"], 3),
    hazard("no water", &["zero|no|aucune|plus|pas", "pression|pressure"], 2),
    hazard("water cut", &[WATER, "coupe|coupee|coupees|ferme|fermee|cut|off|shut|shutoff|outage"], 3),
    hazard("water cut", &["coupure|coupures|interruption|fermeture", "eau|aqueduc"], 2),
    hazard("water cut", &["water", "shutoff|shutdown"], 0),
    hazard("water back", &["eau|water|courant|power|electricite|hydro", "revient|revenir|back"], 3),
    hazard("discoloured water", &[WATER, "brune|brun|jaune|noire|noir|blanche|laiteuse|brown|yellow|black|milky|rouge|red|orange|trouble|cloudy|murky|rouille|rusty"], 3),
    hazard("discoloured water", &[WATER, "sent|smells|smell|goute|tastes", "essence|gasoline|gas|gaz|chimique|chemical|egout|sewage|diesel|petrole"], 3),
    hazard("boil-water notice", &["avis|advisory|notice", "ebullition|bouillir|boil"], 3),
    hazard("boil-water notice", &["boil", "water|advisory|notice|order"], 2),
    hazard("boil-water notice", &["bouillir|boil", WATER], 2),
    hazard("boil-water notice", &[WATER, "est|is", "potable|buvable|drinkable|safe"], 1),
    hazard("boil-water notice", &["est|is", WATER, "potable|buvable|drinkable|safe"], 2),
    hazard("boil-water notice", &["boire|drink", WATER], 3),
    hazard("boil-water notice", &["boire|drink|drinking", "robinet|robinets|tap|taps|faucet"], 3),
    hazard("boil-water notice", &["ebullition"], 0),
    hazard("boil-water notice", &["still|toujours|encore|yet|need|needs|must|should|faut|faire|doit|devons|doivent", "boil|boiling|bouillir"], 2),
    hazard("boil-water notice", &["safe|ok|okay|correct|securitaire|bon|bonne", "to|a|pour", "drink|boire"], 0),
    hazard("boil-water notice", &["water", "advisory|advisories|notice"], 1),
    hazard("boil-water notice", &["advisory|advisories", "lifted|effect|force"], 3),
    // Water mains, hydrants, leaks.
    hazard("water main break", &["bris|brise|casse|cassee|rupture|fuite", "aqueduc"], 3),
    hazard("water main break", &["bris", "eau"], 2),
    hazard("water main break", &["conduite|conduites|tuyau|tuyaux|aqueduc", "brise|brisee|brisees|casse|cassee|pete|petee|eclate|eclatee|fendu|fendue|saute"], 3),
    hazard_unless("water main break", &["water", "main|mains"], 0, "work|works|flushing|replacement|project|projects|construction|repair|repairs|renewal|reader"),
    hazard("water main break", &["burst|broken|busted|leaking", "pipe|pipes|main"], 2),
    hazard("water main break", &["geyser|geysers"], 0),
    hazard("water main break", &[WATER, FLOWING], 3),
    hazard("water main break", &["fuite|fuites|leak|leaking", "eau|water"], 2),
    hazard("hydrant leak", &["borne", "fontaine", "coule|fuit|fuite|gicle|arrachee|brisee|ouverte|jaillit|frappee|pisse"], 3),
    hazard("hydrant leak", &["hydrant|hydrants", "leak*|gush*|spray*|broken|open|opened|flowing|running|sheared|knocked"], 6),
    hazard("hydrant leak", &["hit|sheared|knocked|opened|frappe", "hydrant|borne"], 3),
    // Sewer and flooding.
    hazard("sewer backup", &["refoulement|refoulements|refoule|refoulent|refoulait|deborde|debordent", "egout|egouts|degout|degouts"], 3),
    hazard("sewer backup", &["egout|egouts|drain|drains", "refoule*|deborde*|remonte*"], 3),
    hazard("sewer backup", &["sewer|sewers|sewage", "backup|back|backing|backed|overflow*|coming"], 2),
    hazard("sewer backup", &["toilette|toilettes|toilet|toilets|douche|shower|drain|renvoi", "refoule*|backing|backed|overflow*|deborde*"], 3),
    hazard("flooding", &["inondation|inondations|inonde|inondee|inondes|inondees|inondent|inonder"], 0),
    hazard_unless("flooding", &["flood|flooding|flooded|floods"], 0, "zone|zones|insurance|map|maps|plain|risk|program|it|properly"),
    hazard("flooding", &["riviere|ruisseau|creek|river|bassin|fosse|pluvial|ponceau|culvert|puisard|sump|drains|grilles", "deborde|debordent|overflowing|overflows|overflow|refoule|refoulent|plugged|bouche|bouchees|jumped|monte|clogged"], 4),
    hazard("flooding", &[WATER, "monte|rising|rises|rise"], 5),
    hazard("flooding", &[WATER, "partout|everywhere"], 1),
    hazard("flooding", &[WATER, "passe|going|running", "dessus|over|across"], 2),
    hazard("flooding", &[WATER, "genoux|knees|ankle|cheville|chevilles|taille|waist"], 4),
    hazard("flooding", &["pieds|pied|pouces|feet|foot|inches|metre", WATER], 2),
    hazard("flooding", &["eau|water|sewage", "rentre|rentrer|entre|into|in|dans|coming|getting|get", "sous|basement|maison|maisons|house|houses|garage|porches|terrains|yards|cours"], 4),
    // Water in a shower is a shower; water coming up through its drain is a backup.
    hazard("flooding", &["eau|water|sewage|egout|egouts", "remonte|remontent|coming|comes|backing|refoule|sort|sortent", "douche|shower|drain|renvoi|bain|tub"], 4),
    hazard("flooding", &["underwater|submerge|submergee|submerged"], 0),
    hazard("flooding", &["coince|coinces|stuck|trapped", "eau|water|riviere|river"], 6),
    // Power.
    hazard("power outage", &["panne|pannes", "courant|electricite|electrique|hydro|generale|totale"], 3),
    hazard("power outage", &["plus|pas|manque|sans|ni", "de|d", "courant|electricite|lumiere|hydro|chauffage"], 0),
    hazard("power outage", &["courant|electricite|hydro", "coupe|coupee|manque|parti|partie|tombe|saute"], 2),
    hazard("power outage", &["coupure|coupures|interruption|interruptions", "courant|electricite|hydro"], 2),
    hazard_unless("power outage", &["lost|lose|losing|perdu|perdre|perd", "power|electricity|hydro|courant|electricite"], 2, "bill|bills|facture|factures|compte"),
    hazard("power outage", &["power|electricity|hydro", "outage|outages|out|down|cut|off|failure|gone"], 2),
    hazard("power outage", &["out", "of", "power|electricity"], 0),
    hazard("power outage", &["no|without", "power|electricity|hydro"], 2),
    hazard("power outage", &["blackout|outage"], 0),
    hazard("power outage", &["pendant|during", "la|the", "panne|outage|blackout"], 0),
    hazard("power outage", &["rechauffement|warming", "centre|center|centres|halte"], 1),
    hazard("downed power line", &["fil|fils|cable|cables|ligne|lignes", "tombe|tombes|tombee|tombees|terre|sol|arrache|arraches|arrachees|pendent|pend|traine|trainent|nu|touchent"], 3),
    hazard("damaged pole", &["poteau|poteaux|transformateur|lampadaire", "tombe|tombes|casse|penche|arrache|feu|explose|couche|plie"], 3),
    hazard("downed power line", &["line|lines|wire|wires|cable|cables|pole", "down|fallen|fell|hanging|snapped|ground|dangling|lying|sparking|crackling|exposed"], 3),
    hazard("downed power line", &["downed|fallen|live", "line|lines|wire|wires|pole|poles|cable"], 2),
    hazard("damaged pole", &["fauche|hit|took|knocked", "poteau|pole|poles"], 3),
    hazard("sparks", &["fil|fils|wire|wires|poteau|pole|transformateur|transformer|transfo", "etincelle*|spark*|flamme*|flame*|fume*|smok*|flashe"], 4),
    hazard("sparks", &["etincelle*|sparks|sparking|arcing"], 0),
    hazard("sparks", &["transfo|transformateur|transformer", "saute|blew|blow|blows|blowing|blown|explose|exploded|boom"], 3),
    hazard("smoke", &["fumee|smoke", "egout|egouts|manhole|manholes|bouche|regard|transfo|transformer|poteau|pole"], 5),
    // Roads and structures.
    hazard_unless("traffic lights out", &["feux|feu|signaux", FAIL_FR], 7, "pietons|pieton|bouton"),
    hazard("traffic lights out", &["feux|feu|signaux", "marche|marchent|fonctionne|fonctionnent", "pas|plus"], 4),
    hazard("traffic lights out", &["lumieres|lumiere", "circulation|intersection", FAIL_FR], 4),
    hazard("traffic lights out", &["traffic", "light|lights|signal|signals", FAIL_EN], 3),
    hazard("traffic lights out", &["traffic", "light|lights|signal|signals", "not|aren|isn|don|doesn", "working|work"], 3),
    hazard_unless("traffic lights out", &["lights|signals", "out|dead|flashing|blinking|down"], 6, "street|streetlight|streetlights|park|parc|led|christmas|noel"),
    hazard("traffic lights out", &["no", "lights", "intersection"], 4),
    hazard("stop sign down", &["panneau|stop|arret|sign", "arrache|arraches|knocked|missing|enleve|vole|stolen|gone|tombe|lying|flattened|bent|couche|plie|terre"], 4),
    hazard("stop sign down", &["knocked|stole|ripped|arrache", "stop|arret|panneau"], 3),
    hazard("sinkhole", &["trou|trous", "beant|beants|beante|enorme|geant"], 1),
    hazard("sinkhole", &["sinkhole|sinkholes|affaissement|cratere"], 0),
    hazard("sinkhole", &["sink", "hole"], 0),
    hazard("sinkhole", &["effondr*|affaiss*|ecroul*|caved|collapsed|collapse"], 0),
    hazard("open hole", &["trou|hole|pit|trench|tranchee|excavation", "ouvert|ouverte|open|metres|metre|deep|profond|creux|dedans|pris|swallow|fell|tombe|cloturee|fenced|barrier|barriere"], 8),
    hazard("open manhole", &["plaque|couvercle|grille|grate|cover", "egout|regard|manhole", "manquant*|enleve*|ouvert*|arrache*|deplace*|parti|partie|missing|stolen|open"], 4),
    hazard("open manhole", &["manhole|grate", "missing|open|uncovered|off|stolen"], 3),
    hazard("open manhole", &["stole|stolen|missing|vole|volee", "manhole|grate|grille|couvercle|plaque"], 3),
    hazard("falling debris", &["glace|neige|ice|snow|glacons|icicles|blocs|chunks|plaque", "toit|roof|toiture"], 6),
    hazard("falling debris", &["icicles|glacons"], 0),
    hazard("falling debris", &["beton|concrete|morceaux|chunks|pieces", "tombent|falling|fall|volent|flying|tombe"], 4),
    hazard("falling debris", &["toit|roof|toiture", "craque|creaking|cracking|ploie|sagging"], 4),
    hazard("falling debris", &["mur|muret|wall", "tombe|tombee|fell|down|collapsed|ecroule"], 5),
    hazard("fallen tree", &["arbre|arbres|tree|trees", "tombe|tombes|tombee|fell|fallen|down", "fil|fils|wire|wires|line|lines|maison|house|auto|char|car|rue|street|road|route"], 4),
    hazard("fallen tree", &["arbre|arbres|branche|branches|tree|trees|limb|limbs|branch", "travers|across|blocking|bloque|bloquent"], 4),
    hazard("fallen tree", &["arbre|branche|tree|branch|limb", "fils|wires|lines|line|cables"], 7),
    hazard("tree on power lines", &["arbre|branche|tree|branch|limb", "on|sur|onto|touching|touche|touchent|resting|accote|accotee|appuye|appuyee|dans|into|against|across", "fils|wires|lines|line|cables"], 4),
    hazard_unless("fallen tree", &["arbre|branche|tree|branch|maple|limb", "penche|pend|hanging|leaning|craque|cracking|fendu|split"], 5, "up|phone|telephone|telephonique"),
    hazard("ice hazard", &["verglas|glace|glacee|glaces|patinoire|rink|icy|ice|freezing|glissant|verglacante", "tombe|tomber|tombent|fell|falling|glisse|glisses|slid|sliding|wiping|chute|fosse|ditch"], 10),
    hazard("ice hazard", &["rue|road|cote|hill|chemin|street|trottoir|trottoirs|sidewalk|sidewalks", "patinoire|skating|rink|glace|icy|glacee|glaces"], 6),
    hazard("ice hazard", &["glace|ice", "craque|cracking|cracks|mince|thin"], 3),
    hazard("ice hazard", &["black", "ice"], 0),
    hazard("ice hazard", &["glace", "noire"], 0),
    hazard("near miss", &["failli|almost|presque|nearly", "frapper|frappe|hit|tomber|fell|tombe|accident|chute"], 4),
    hazard("near miss", &["va|going|gonna", "blesser|frapper|tuer|hurt|killed|hit"], 4),
    hazard("near miss", &["moto|motos|motorcycle|cycliste|cyclist", "tombe|tombent|chute|chuter|went|fell"], 4),
    hazard("landslide", &["glissement", "terrain"], 1),
    hazard("landslide", &["landslide|mudslide"], 0),
    // Fire, explosion, animals, people at risk.
    hazard("fire", &["en|on", "feu|fire|flammes|flames"], 0),
    hazard("fire", &["feu|fire|incendie|blaze|flammes|flames", "spreading|spread|spreads|propage|propager|repand|gagne|gagner|progresse"], 4),
    hazard("fire", &["feu|fire|incendie", "au|at|on", "#num"], 0),
    hazard("explosion", &["explosion|explose|exploded|explode"], 0),
    hazard("dangerous animal", &["chien|chiens|dog|dogs|pitbull|pit", "attaque|attaquent|attacking|attacked|mord|mordre|mordu|mordue|bite|bit|bitten|biting"], 4),
    hazard("dangerous animal", &["=enrage|=enragee|rabid"], 0),
    hazard("dangerous animal", &["chien|chiens|dog|dogs|pitbull", "agressif|agressifs|aggressive|dangereux|dangerous"], 3),
    hazard("person hurt", &["quelqu|someone|somebody|enfant|enfants|child|kid|kids|personne|homme|femme|man|woman", "blesse|blessee|blesses|injured|=bleeding|=saigne|inconscient|unconscious"], 3),
    hazard("dangerous objects", &["seringues|seringue|needles|needle|syringes|vitre|verre|glass|bottles|bouteilles", "enfants|kids|children|toddlers|jouent|playing|sable|sandbox|slide"], 8),
    // A person at risk, told without hazard words.
    hazard("person injured", &["blesse|blessee|blesses|blessees|injured|injury|injuries|=saigne|=saignent|=bleeding|=bleeds"], 0),
    hazard("person injured", &["is|are|got|been|badly|seriously|someone|somebody|people|person|man|woman|kid|child|son|daughter|mom|dad|wife|husband|neighbor|neighbour|he|she|they|m|re", "hurt"], 1),
    hazard("person injured", &["broke|broken|casse|cassee|fracture|fractured", "leg|arm|hip|ankle|wrist|neck|back|jambe|bras|hanche|cheville|poignet|cou|dos|cote|cotes|ribs"], 3),
    hazard("person injured", &["commotion|concussion|fracture|fractured"], 0),
    hazard("person injured", &["leg|arm|hip|ankle|wrist|neck|jambe|bras|hanche|cheville|poignet|cou", "broke|broken|casse|cassee|fracture|fracturee"], 2),
    // A burn that is "still" there is a burnt-out lamp, not an injury.
    hazard_unless("person burned", &["quelqu|someone|somebody|il|elle|he|she|fils|fille|enfant|child|kid|man|woman|homme|femme|person|people|gens|main|mains|hand|hands|bras|arm|face|visage|jambe|leg|pieds|feet|skin|peau", "=brule|=brulee|=brules|=brulees|=burned|=burnt|=brulure|=brulures"], 2, "encore|toujours|still|out"),
    hazard_unless("person burned", &["brulure|brulures|=burns"], 0, "cd|dvd"),
    hazard("person trapped", &["=trapped"], 0),
    hazard_unless("person trapped", &["coince|coincee|coinces|coincees|stuck|pogne|pognes|enferme|enfermee|enfermes|enfermees|bloque|bloquee|bloques|bloquees|locked", "ascenseur|elevator|lift|voiture|auto|char|vehicule|vehicle|maison|house|home|logement|appartement|apartment|batisse|building|immeuble|debris|rubble|decombres|inside|dedans|interieur|toit|roof|balcon|balcony|sous|under|underneath|glace|riviere|river|eau|water|boue|mud|cave|basement|chambre|room|escalier|stairs|stairwell|cage|garage|grenier|attic"], 3, "entree|driveway|allee|acces|access|stationnement|parking|rue|street|chemin|road"),
    hazard("person buried", &["quelqu|someone|somebody|enfant|enfants|child|kid|kids|man|homme|femme|woman|worker|workers|ouvrier|ouvriers|travailleur|travailleurs|people|gens|person|skier|chien|dog|husband|mari|wife|son|fils|fille|daughter", "enseveli*|buried"], 4),
    hazard("person trapped", &["quelqu|someone|somebody|enfant|enfants|child|kid|kids|man|homme|femme|woman|worker|workers|ouvrier|ouvriers|travailleur|travailleurs|people|gens|person|skier|chien|dog|husband|mari|wife|son|fils|fille|daughter", "coince*|=trapped|stuck"], 4),
    hazard("cannot breathe", &["peut|peux|pouvons|peuvent|arrive|arrivent|capable|can|cannot|cant|could|couldn|hard|trouble|struggling|difficulte|difficultes|misere|mal|du|de", "respirer|breathe|breathing|respire"], 3),
    hazard("cannot breathe", &["respire|respirent|breathing|breathes|breathe", "pas|plus|mal|not|barely|difficilement|hard|heavy"], 1),
    hazard("cannot breathe", &["not|isnt|isn|stopped|arrete|stop", "breathing|respirer"], 2),
    hazard("cannot breathe", &["=etouffe|=etouffent|suffoque|suffoquent|suffocating|suffocate|=choking|asphyxie|asphyxia"], 0),
    hazard("person unconscious", &["passed|perdu|perd|perdre|evanoui|evanouie|evanouis|fainted", "out|connaissance|conscience"], 1),
    // "not moving" is a person; "moving out" is a change of address.
    hazard("person unconscious", &["bouge|moving|responding|repond|reagit", "plus|pas|anymore"], 1),
    hazard("person unconscious", &["not|isnt|isn|stopped|pas|plus", "moving|responding|bouge|repond|reagit"], 1),
    hazard("person unconscious", &["inconscient|inconsciente|unconscious|unresponsive|evanoui|evanouie|fainted|convulse|convulsions|seizure|overdose|surdose"], 0),
    hazard("person fell", &["quelqu|someone|somebody|il|elle|he|she|man|woman|homme|femme|monsieur|madame|lady|guy|agee|vieux|vieille|enfant|child|kid|mother|mere|father|pere|dame|neighbor|neighbour|voisin|voisine", "tombe|tombee|fell|fallen", "relever|get|stand|bouge|bouger|move|moving|sol|ground|floor|plancher|glace|ice|escalier|stairs"], 3),
    hazard("person fell", &["peut|peux|peuvent|capable", "pas|plus", "relever|bouger"], 1),
    hazard("person fell through", &["fell|went|tombe|tombee|passe|passee|cale|calee|enfonce|enfoncee", "through|travers|dans", "ice|glace|plank|planks|planche|planches|floor|plancher|bridge|pont|passerelle|footbridge|deck|boards|balcon|balcony|galerie|quai|dock"], 2),
    hazard("person fell through", &["through|travers|dedans|cale|calee|enfonce|enfoncee|sank|stuck|pris|prise", "up|jusqu", "to|a|au|aux", "hip|hips|waist|knee|knees|chest|neck|thigh|hanche|hanches|taille|genou|genoux|cou|poitrine|cuisse|cuisses"], 2),
    hazard("person fell through", &["leg|legs|foot|feet|jambe|jambes|pied|pieds|knee|genou", "went|passed|passe|passee|fell|tombe|tombee|cale|calee|enfonce|enfoncee|through|travers"], 3),
    hazard("person fell through", &["son|daughter|kid|kids|child|boy|girl|fils|fille|enfant|enfants|petit|petite|gars", "went|fell|tombe|tombee|passe|passee|cale|calee", "through|travers"], 2),
    hazard("call for help", &["aidez|sauvez|secourez", "nous|moi"], 0),
    hazard("call for help", &["save|rescue", "us|me|him|her|them|my|our"], 0),
    hazard("call for help", &["send|envoyez|envoyer|envoie|envoyer", "help|aide|secours|ambulance|pompiers|police|someone|quelqu"], 2),
    hazard_unless("call for help", &["a|au", "l", "aide"], 0, "de|d|du|des|pour"),
    hazard("call for help", &["au", "secours"], 0),
    hazard("call for help", &["=sos|=mayday"], 0),
    hazard("call for help", &["help|aide|aidez", "help|aide|aidez|vite|quick|asap"], 0),
    hazard("call for help", &["need|needs|besoin|faut", "rescue|rescued|secours|secouru|secourus|evacue|evacues|evacuation|evacuated|sauvetage"], 3),
    hazard("needs food or water", &["rien|nothing|pas|plus|no|without|sans|manque|manquons|manquent|out", "a|to|de|d|of", "manger|eat|boire|drink|nourriture|bouffe|food|provisions"], 1),
    hazard_unless("needs food or water", &["need|needs|besoin|manque|manquons|manquent|running", "food|nourriture|bouffe|provisions|vivres|eau|water|abri|shelter|tent|tente|couvertes|blankets|formula"], 3, "fountain|fountains|fontaine|fontaines|bill|bills|facture|meter|compteur|pressure|pression|chaude|hot|heater|permit|permis|bank|banque|truck|trucks|camion|boil|bouillir"),
    hazard("person in danger", &["need|needs|besoin|faut|send|envoyez|envoyer", "boat|boats|bateau|bateaux|chaloupe|canot|zodiac|helicopter|helicoptere|ambulance"], 2),
    hazard("without shelter", &["where|ou", "sleep|dormir|coucher", "tonight|soir|nuit"], 4),
    hazard("without shelter", &["nowhere|nulle|aucun|aucune|no", "to|part|endroit|place|where", "sleep|dormir|stay|coucher"], 2),
    hazard("without shelter", &["dehors|outside", "depuis|since", "evacuation|evacues|evacuated|fire|feu|incendie|inondation|flood"], 2),
    hazard("flooding", &["maison|house|sous|basement|cave|garage|home|appartement|apartment|logement|chambre|room|rue|street|char|car|auto|voiture", "full|plein|pleine|remplie|rempli", "of|d|de", "water|eau"], 2),
    hazard("medical equipment without power", &["oxygene|oxygen|concentrateur|concentrator|respirateur|respirator|dialyse|dialysis|cpap|ventilator|feeding|gavage|medical|medicale|medicales|medicaux", "battery|batterie|batteries|charge|charger|recharger|power|courant|electricite|electricity|plug|brancher"], 4),
    hazard("medical equipment without power", &["charge|charger|recharger|plug|brancher|power|courant|battery|batterie", "oxygene|oxygen|concentrateur|concentrator|respirateur|respirator|dialyse|dialysis|cpap|ventilator|feeding|gavage|medical|medicale|medicales|medicaux"], 3),
    hazard("needs food or water", &["deshydrate|deshydrates|dehydrated|deshydratation|dehydration"], 0),
    hazard("without medication", &["sans|pas|plus|no|without|manque|manquons|ran|run|running|out|besoin|need|needs|finir|fini|finis", "medicaments|medication|medications|meds|medicine|insuline|insulin|pilules|pills|prescription|ordonnance|epipen|inhaler|inhalateur|pompe|puffer"], 3),
    phrase(Kind::Cue, "depends on medical equipment", &["oxygene|oxygen|concentrateur|concentrator|respirateur|respirator|dialyse|dialysis|cpap|ventilator"], 0),
    hazard("vulnerable person without heat", &["bebe|bebes|baby|babies|enfants|kids|children|mere|mom|mother|pere|dad|father|grandma|grandpa|grandmother|grandfather|agee|agees|elderly|senior|seniors|aine|aines|malade|malades|sick|handicape|handicapee|handicapes|disabled|newborn|nourrisson|enceinte|pregnant", "chauffage|heating|furnace|fournaise|gele|gelent|gelons|freezing|frozen|hypothermie|hypothermia"], 8),
    hazard("vulnerable person without heat", &["chauffage|heating|furnace|fournaise|gele|gelent|gelons|freezing|frozen|hypothermie|hypothermia", "bebe|bebes|baby|babies|enfants|kids|children|mere|mom|mother|pere|dad|father|grandma|grandpa|grandmother|grandfather|agee|agees|elderly|senior|seniors|aine|aines|malade|malades|sick|handicape|handicapee|handicapes|disabled|newborn|nourrisson|enceinte|pregnant"], 8),
    phrase(Kind::Cue, "no heat", &["sans|pas|plus|no|without|aucun|manque", "chauffage|heat|heating|fournaise|furnace|heater"], 2),
    phrase(Kind::Cue, "no heat", &["on|nous|we|m|suis|sommes|re|are", "gele|gelent|gelons|freezing|frigorifies"], 2),
    // Blocked access.
    hazard("ambulance cannot reach", &["ambulance|ambulances|ambulancier*|paramedic*|pompier*|firefight*|firetruck|firetrucks|secours", "pas|not|no|plus|t|cant|cannot|couldn|won|wont|unable|incapable|impossible|jamais|never", "passer|pass|through|acceder|access|reach|rendre|rentrer|entrer|get|arriver|monter|come|venir|approcher|tourner|turn|in"], 3),
    hazard("ambulance cannot reach", &["fire|ems|emergency", "truck|trucks|engine|engines|crew|crews|vehicle|vehicles", "not|no|t|cant|cannot|couldn|won|wont|unable|never", "pass|through|access|reach|get|come|approach|turn|in"], 3),
    hazard("ambulance cannot reach", &["ambulance|ambulances|ambulancier*|paramedic*|pompier*|firefight*|firetruck|firetrucks|secours", "bloque|bloquee|bloquees|blocked|block|stuck|prise|pris|coince*|enlise*"], 3),
    hazard("ambulance cannot reach", &["ambulance|ambulances|ambulancier*|paramedic*|pompier*|firefight*", "walk|walking|foot|pied|pieds|carry|carrying|carried|portent|porter|transporter|transportent"], 4),
    phrase(Kind::Cue, "cannot get out", &["peut|peux|pouvons|peuvent|pouvait|capable|arrive|arrivons|reussi|cant|cannot|can|couldn|unable", "pas|plus|meme|t|not|to", "sortir|leave|partir|quitter|evacuer|evacuate"], 2),
    phrase(Kind::Cue, "cannot get out", &["no|aucune|aucun|pas|plus", "way|moyen|issue|sortie", "out|sortir|de"], 1),
    hazard("cannot get out", &["coince*|pris|prise|trapped|stuck|bloque*|enferme*|prisonnier*", "chez|inside|dedans|interieur|home|maison|house|appartement|apartment|logement|etage|floor"], 3),
    // Failing safety equipment.
    hazard("railway crossing barrier", &["barriere|barrieres|bras|gate|gates|arm|arms|signal|signals|signaux|lumiere|lumieres|cloche|cloches|bell|bells|clignotant|clignotants|feux", "passage|railway|railroad|ferree|ferroviaire"], 4),
    hazard("railway crossing barrier", &["railway|railroad|ferroviaire|rail|train", "crossing|passage", "barriere*|bras|gate|gates|arm|arms|signal*|lumiere*|lights|cloche*|bell|bells|clignotant*"], 2),
    hazard("railway crossing barrier", &["crossing", "gate|gates|arm|arms|barrier|barriers|bell|bells"], 1),
    phrase(Kind::Cue, "railway crossing barrier", &["passage", "a|au", "niveau"], 0),
    hazard_unless("alarm ringing", &["alarme|alarmes|alarm|alarms|sirene|sirenes|siren|sirens|avertisseur|avertisseurs|detecteur|detecteurs|detector|detectors", "sonne|sonnent|sonnait|sonner|ringing|rings|ring|going|goes|went|beeping|beeps|bip|bipe|bipent|hurle|hurlent|blaring|sounding|arrete|stop|stops|stopping|depart|declenche|declenchee|triggered|off"], 4, "batterie|battery|batteries|pile|piles"),
    hazard("chemical smell", &["odeur|odeurs|smell|smells|smelling|senteur|sent|pue|puent|stinks|stink|reeks|fumes|vapeurs|emanations", "chimique|chimiques|chemical|chemicals|chlore|chlorine|ammoniac|ammonia|solvant|solvent|javel|bleach|acide|acid|toxique|toxiques|toxic|produit|produits|essence|gasoline|brule|burning|plastique|plastic"], 3),
    hazard("chemical smell", &["toxique|toxiques|toxic", "fumes|fumee|smoke|vapeurs|gaz|gas|nuage|cloud"], 2),
    // Outages told as a situation.
    hazard_unless("in the dark", &["dans|in", "le|the", "noir|dark"], 0, "sur|about|info|information|informations|nouvelles|news"),
    hazard("in the dark", &["noir|dark", "total|complet|partout|everywhere|whole|tout|toute"], 1),
    hazard("in the dark", &["whole|entire|toute|tout", "rue|street|neighbourhood|neighborhood|quartier|block|maisons|houses|homes|secteur|area|building|immeuble|bloc|village|town|ville", "dark|noir|noire|noirs|noires"], 3),
    hazard("power outage", &["lights", "went", "out"], 0),
    hazard("in the dark", &["rien|nothing", "marche|fonctionne|works|working", "frigo|fridge|refrigerateur|congelateur|freezer|chauffage|heating|furnace|fournaise|lumieres|lights|heat|poele|stove"], 6),
    hazard("in the dark", &["frigo|fridge|refrigerateur|congelateur|freezer|chauffage|heating|furnace|fournaise|lumieres|lights|heat|poele|stove", "frigo|fridge|refrigerateur|congelateur|freezer|chauffage|heating|furnace|fournaise|lumieres|lights|heat|poele|stove"], 1),
    hazard("power outage", &["tout", "est|a", "eteint|noir|dark|saute"], 0),
    hazard_unless("outage in several homes", &["maisons|homes|houses|logements|foyers|residences|secteur|quartier|neighbourhood|neighborhood|block|rue|street|building|immeuble|portes|doors", "sans|without|no|pas|plus", "courant|electricite|power|electricity|eau|water|chauffage|heat|hydro"], 3, "chaude|chaudes|hot|cold|froide|pressure|pression|bill|bills"),
    // Calls for help.
    hazard("emergency", &["=urgent|=urgence|=emergency|=secours"], 0),
    hazard("emergency", &["ca", "presse"], 0),
    // Not an emergency after all.
    phrase(Kind::Veto, "veto", &["pas|not|non|rien|nothing|aucune", "urgent|presse|urgence|emergency|pressant"], 2),
    phrase(Kind::Veto, "veto", &["presse", "pas"], 0),
    phrase(Kind::Veto, "veto", &["car|auto|voiture|char|vehicule|truck|camion", "alarm|alarme|alarms|alarmes"], 1),
    phrase(Kind::Veto, "veto", &["trousse|trousses|mesures|plan|plans|numero|numeros|sortie|sorties|ligne|services|service|fonds|kit|preparation|sirene|sirenes", "d|de|des|du", "urgence|urgences"], 1),
    phrase(Kind::Veto, "veto", &["emergency|urgence", "kit|kits|number|numbers|plan|plans|line|contact|contacts|exit|exits|services|preparedness|alert|alerts|room|fund|measures|management|list|lists|registry|register|siren|sirens"], 1),
    // A test of the warning sirens is announced, not an alarm going off.
    phrase(Kind::Veto, "veto", &["sirene|sirenes|siren|sirens", "test|tests|tested|testing|teste|testee|testees|essai|essais|exercice|drill"], 6),
    phrase(Kind::Veto, "veto", &["test|tests|testing|essai|essais|exercice|drill", "sirene|sirenes|siren|sirens"], 3),
    phrase(Kind::Veto, "veto", &["rink|rinks|patinoire|patinoires|ice", "flood|flooded|flooding|floods|arrosee|arrose|arroser"], 6),
    phrase(Kind::Veto, "veto", &["alarme|alarm|alarmes", "de|d|du", "char|auto|voiture|camion|recul"], 0),
    // Billing: a bill about water, power or gas is no outage, however urgent its tone.
    phrase(Kind::Billing, "utility billing", &[BILLING, UTILITY], 4),
    phrase(Kind::Billing, "utility billing", &[UTILITY, BILLING], 3),
    phrase(Kind::Billing, "utility billing", &["taxe|taxes|tax|taxation", "municipale|municipales|fonciere|foncieres|property|municipal|eau|water|scolaire|school|bienvenue|welcome"], 2),
    phrase(Kind::Billing, "utility billing", &["facture|factures|invoice|invoices|=bill|=bills"], 0),
    phrase(Kind::Billing, "utility billing", &["compte|comptes", "de|d|du", "taxe|taxes|eau|hydro|electricite|gaz|energir"], 1),
    // Complaints phrased as questions: a feature for the model, which otherwise reads any
    // question as a request for information.
    phrase(Kind::Cue, "complaint as a question", &["c|ce", "est|quoi", "quoi|cette|ce", "cette|ce|ces|cet|affaire|histoire|niaiserie|joke"], 0),
    phrase(Kind::Cue, "complaint as a question", &["comment", "ca", "se", "fait"], 0),
    phrase(Kind::Cue, "complaint as a question", &["pourquoi|pk|why|how", "encore|toujours|jamais|always|still|never|again|come"], 6),
    phrase(Kind::Cue, "complaint as a question", &["on|je|we|i", "paye|paie|payons|pay|paying", "pour|for", "quoi|what|rien|nothing"], 2),
    phrase(Kind::Cue, "complaint as a question", &["what", "gives|the|am"], 0),
    phrase(Kind::Cue, "complaint as a question", &["are|you|u|r", "you|u|kidding|serious|joking"], 1),
    phrase(Kind::Cue, "complaint as a question", &["quand|when", "est|are|r", "ce|you|u", "que|going|gonna", "vous|to|fix|do"], 1),
    phrase(Kind::Cue, "complaint as a question", &["vous|you|u", "attendez|waiting|wait", "quoi|for|que"], 1),
    phrase(Kind::Cue, "complaint as a question", &["c|it", "est|is", "une|a", "joke|farce|blague"], 1),
    phrase(Kind::Cue, "complaint as a question", &["a|has|ca|it", "pas|no|makes", "d|de|sense", "allure|sens|bon|sense"], 1),
    phrase(Kind::Cue, "complaint as a question", &["who|qui", "do|dois|faut", "i|je|tu|il", "have|appeler|call|parler|talk|need"], 2),
    phrase(Kind::Cue, "complaint as a question", &["is|anyone|quelqu|personne", "anyone|ever|going|un|va|gonna", "going|ever|venir|come|fix|reparer|repondre|answer|call|rappeler"], 2),
    // Thanks and praise: information, however the event they thank for went.
    phrase(Kind::Cue, "thanks or praise", &["merci|thanks|thank|thx|bravo|kudos|props|shoutout|shout|chapeau|felicitations|congrats|congratulations|remercier|remercie|remercions|reconnaissant|reconnaissante|grateful", "a|au|aux|to|pour|for|you|u|out|the|la|le|les|tous|toutes|everyone|all"], 0),
    phrase(Kind::Cue, "thanks or praise", &["you|u|vous|they|ils|elles|yall", "rock|rocks|rule|heros|hero|heroes|champions|legends|legend|amazing|awesome|incredible|formidables|extraordinaires|geniaux|geniales|incroyables|anges|angels"], 2),
    phrase(Kind::Cue, "thanks or praise", &["great|good|excellent|excellente|beau|bon|super|amazing|incroyable|awesome|fantastic|impeccable|wonderful", "job|work|travail|boulot|service|team|equipe|crew"], 1),
    // Administrative matters: a bare call for urgency is about them.
    phrase(Kind::Admin, "administrative matter", &["frais|fee|fees|fine|fined|amende|amendes|ticket|tickets|constat|constats|taxe|taxes|tax|payment|paiement|paye|payer|paid|pay|charge|charged|chargé|refund|rembourse|remboursement|permis|permit|permits|penalty|penalite|interets|interest|solde|balance|account|dossier|formulaire|form|forms|website|site|portail|inscription|registration|evaluation|assessment|reclamation|claim|facture|bill|bills|compte|impot|impots|owe|dois|doit"], 0),
    // An animal hurt or stuck is no danger to a person.
    phrase(Kind::Animal, "animal", &["chat|chats|chaton|chatte|minou|chien|chiens|chiot|animal|animaux|cat|cats|kitten|dog|dogs|puppy|oiseau|oiseaux|bird|birds|raton|raccoon|chevreuil|deer|renard|fox|ecureuil|squirrel|goeland|seagull|canard|canards|duck|ducks|patte|paw", "blesse|blessee|blesses|injured|hurt|=saigne|=bleeding|coince|coincee|coinces|stuck|=trapped"], 4),
    phrase(Kind::Animal, "animal", &["blesse|blessee|injured|hurt", "patte|pattes|paw|paws|aile|wing"], 3),
    // Figures of speech.
    phrase(Kind::Figurative, "figurative", &["merci|thanks|thank|bravo", "enferme*|locking|trapping|bloquer|blocking"], 4),
    phrase(Kind::Figurative, "figurative", &["je|j|i|me|my|ma|mon|tete|head|budget|facture|factures|bill|bills|taxes|compte|comptes|prix|price|prices|couts|costs|patience|nerfs|nerves|tout|everything|cerveau|brain|coeur|heart|telephone|phone|boite|inbox|loyer|rent|tarif|tarifs|rates", "va|vais|vont|going|gonna|about|will|is|a|est|ont|have|has|just|m|sont|are|vient", "exploser|explode|exploded|explose|explosent|exploding|peter|pete"], 3),
    phrase(Kind::Figurative, "figurative", &["money|argent|cash|wallet|portefeuille|budget|taxes|fees|frais", "fire|feu|flammes|flames"], 3),
    phrase(Kind::Figurative, "figurative", &["courriel|courriels|email|emails|inbox|boite|cell|phone|telephone|notifs|notifications|messagerie", "explose|explosent|explode|explodes|exploding|exploded"], 2),
    phrase(Kind::Figurative, "figurative", &["app|apps|application|site|website|update|team|equipe|crew|show|spectacle|deal|deals|sale|sales|soldes|prices|prix|market|marche|game|match|player|joueur|band|dj|chef|tracker|playlist|server|servers|serveur|serveurs|inbox|phone|telephone|cell|dms|messagerie|notifications", "fire|feu"], 4),
    phrase(Kind::Figurative, "figurative", &["hydro|facture|factures|taxes|compte|bill|bills|prix|ca|this|it|you|vous|ville|city", "va|vont|going|gonna|will|are|is", "me|nous|us|m", "tuer|kill|killing"], 1),
    phrase(Kind::Figurative, "figurative", &["bleeding|saigner|saigne|saignez|saignent", "us|me|nous|dry|a|blanc|les|taxpayers|contribuables"], 1),
    phrase(Kind::Figurative, "figurative", &["explosion|explose|exploded|skyrocketed|skyrocketing|flambee|flambe", "des|de|du|of|in|the", "prix|couts|cout|taxes|tarifs|facture|factures|bill|bills|price|prices|costs|rates|fees|frais|comptes|loyers|rent|taxe|tax|hausses"], 2),
    phrase(Kind::Figurative, "figurative", &["mort|morte|morts|meurs|meurt|mourir|mourrir|crever|creve|dying|die|dead|died", "de|d|of|to|laughing|lol", "rire|ennui|fatigue|boredom|laughing|laughter|know|honte|embarrassment|shame|peur|tired|curiosity|curiosite"], 2),
    phrase(Kind::Figurative, "figurative", &["killing|kills|tue|tuent|kill", "me|moi|us|nous"], 1),
    phrase(Kind::Figurative, "figurative", &["inonde|inondee|inondes|inondees|flooded|flooding|flood|deluge|noye|noyes|noyee|drowning|buried|enseveli|ensevelis", "de|d|of|with|in|sous|under|dans", "messages|courriels|appels|emails|calls|spam|pubs|publicite|publicites|plaintes|complaints|papier|papiers|paperwork|paperasse|circulaires|flyers|demandes|requests|questions|work|travail|dettes|debt|bills|factures|taxes"], 3),
    phrase(Kind::Figurative, "figurative", &["laisse|laissez|laissent|keep|keeps|kept|keeping|left|leave|leaving|tenir|tient|tenez", "nous|les|us|them|me|citizens|citoyens|residents|gens|people|everyone|tout", "dans|in", "le|the", "noir|dark"], 2),
    phrase(Kind::Figurative, "figurative", &["nightmare|cauchemar|disaster|desastre|catastrophe|catastrophique|emergency|urgence", "administrati*|bureaucrat*|customer|service|clientele|site|website|web|portail|portal|app|application"], 2),
    // Past: the model decides whether it is a complaint.
    phrase(Kind::Past, "past", &["hier"], 0),
    phrase(Kind::Past, "past", &["semaine|fin|mois|an|annee|ete|hiver|printemps|automne|lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche|fois", "passe|passee|derniere|dernier"], 1),
    phrase(Kind::Past, "past", &["y", "a", "#num|un|une|deux|trois|quatre|cinq|quelques|plusieurs", "jours|jour|semaine|semaines|mois|an|ans|annee|annees"], 0),
    phrase(Kind::Past, "past", &["a|ont|avait|avaient", "dure"], 1),
    phrase(Kind::Past, "past", &["yesterday|lasted|lors"], 0),
    phrase(Kind::Past, "past", &["#num|a|an|one|two|three|four|five|few|couple|several", "day|days|week|weeks|month|months|year|years", "ago"], 1),
    phrase(Kind::Past, "past", &["last", "week|weekend|month|year|night|time|summer|winter|spring|fall|monday|tuesday|wednesday|thursday|friday|saturday|sunday"], 0),
    phrase(Kind::Past, "past", &["was|were", "out|off|down|without|cut"], 1),
    phrase(Kind::Past, "past", &["janvier|fevrier|mars|avril|juin|juillet|aout|septembre|octobre|novembre|decembre|january|february|march|april|june|july|august|september|october|november|december"], 0),
    phrase(Kind::Past, "past", &["autre", "jour"], 0),
    phrase(Kind::Past, "past", &["other", "day"], 0),
    phrase(Kind::Past, "past", &["monday|tuesday|wednesday|thursday|friday|saturday|sunday", "s"], 0),
    // An event named rather than told: the model decides.
    phrase(Kind::Event, "event", &["since|depuis|from|during|pendant|lors|after|apres|because|cause|about|concernant|suite|ruined|damaged|destroyed|lost|abime|abimes|abimee|abimees|endommage|endommages|endommagee|endommagees|perdu|perdus|detruit|detruits", EVENT], 3),
    phrase(Kind::Event, "event", &[EVENT, "du|de|of|in|d", "printemps|spring|avril|april|mai|may|juin|june|juillet|july|#num|l|last|this"], 1),
    phrase(Kind::Event, "event", &["spring|april|may|july|last|past|big|historic|historique|grosse|grande|derniere|dernier|#num", EVENT], 1),
    phrase(Kind::Event, "event", &["les|aux|des|pour", "inondes|inondees|sinistres|evacues"], 0),
    phrase(Kind::Event, "event", &["now|maintenant", "that|que|qu"], 0),
    phrase(Kind::Event, "event", &["encombrants|debris|dechets|meubles|furniture|mud|boue|sacs|sandbags|poches|barricades|barrieres|cleanup|nettoyage|damage|dommages|degats", "de|du|des|from|of|d|after|apres|since|depuis", EVENT], 2),
    phrase(Kind::Event, "event", &["sewer|backup|backups|refoulement|refoulements|flood|inondation|degats|damage|dommages|fire|incendie|feu", "claim|claims|reclamation|reclamations|indemnisation|indemnity|compensation|dedommagement"], 3),
    phrase(Kind::Event, "event", &["claim|claims|reclamation|reclamations|indemnisation|compensation|dedommagement", "sewer|backup|refoulement|flood|inondation|degats|damage|dommages|fire|incendie|feu"], 4),
    phrase(Kind::Event, "event", &["zone|zones|zonage|carte|cartes", "inondable|inondables|inondation|inondations"], 1),
    phrase(Kind::Resolved, "resolved", &["flood|water|eau|crue|river|riviere|niveau", "went|gone|come|came|has|had|is", "down"], 1),
    phrase(Kind::Resolved, "resolved", &["flood|water|eau|crue|riviere|river|niveau", "receded|baisse|retiree|retire|redescendu|redescendue|gone|over|finie|fini|terminee"], 2),
    // Resolved (unless asked: "is the water back?").
    phrase(Kind::Resolved, "resolved", &["est|a|ete|sont|ont|enfin|finalement", "revenu|revenue|revenus|revenues|retabli|retablie|retablis|retablies|repare|reparee|repares|reparees|resolu|resolue|regle|reglee|termine|terminee|leve|levee"], 1),
    phrase(Kind::Resolved, "resolved", &["been|was|were|got|has|have|finally|is|are", "restored|fixed|repaired|resolved|lifted"], 1),
    phrase(Kind::Resolved, "resolved", &["came|is|was|are|s", "back"], 1),
    phrase(Kind::Resolved, "resolved", &["back", "on"], 0),
    phrase(Kind::Resolved, "resolved", &["ended"], 0),
    // Chronic: a standing problem is a complaint, however it started.
    phrase(Kind::Chronic, "chronic", &["depuis|for|since|pendant", "des|#num|deux|trois|quatre|quelques|plusieurs|un|une|several|a|few|couple|many", "semaines|mois|ans|annees|weeks|months|years"], 1),
    phrase(Kind::Chronic, "chronic", &["fait|faisait|been", "#num|des|deux|trois|quatre|quelques|plusieurs|un|une|several|a|few|couple|many", "semaines|mois|ans|annees|weeks|months|years"], 1),
    phrase(Kind::Chronic, "chronic", &["depuis|for", "longtemps|ages|while|moment"], 2),
    phrase(Kind::Chronic, "chronic", &["depuis|since", "le|the", "debut|start|beginning"], 0),
    phrase(Kind::Chronic, "chronic", &["a|all", "l|the|year", "annee|year|round"], 0),
    phrase(Kind::Chronic, "chronic", &["jour|day", "et|and", "nuit|night"], 0),
    phrase(Kind::Chronic, "chronic", &["since", "spring|summer|fall|winter|autumn"], 1),
    phrase(Kind::Chronic, "chronic", &["all|tout", "summer|winter|ete|hiver|year|annee|season|saison"], 1),
    phrase(Kind::Chronic, "chronic", &["de|tout|all", "l|the", "hiver|ete|winter|summer"], 0),
    phrase(Kind::Chronic, "chronic", &["chaque|every|tous|toutes", "jour|soir|nuit|semaine|fois|day|night|week|time|les|pluie|pluies|orage|orages|tempete|rain|storm|annee|year|matin|morning|hiver|winter|printemps|spring|ete|summer|automne|fall"], 1),
    phrase(Kind::Chronic, "chronic", &["always|constantly|constamment|continuellement|perpetually"], 0),
    // The same event over and over ("3 fois ce mois-ci", "twice this year") is a standing problem.
    phrase(Kind::Chronic, "chronic", &["#num|deux|trois|quatre|plusieurs|quelques|several|two|three|few", "fois|times"], 0),
    phrase(Kind::Chronic, "chronic", &["#num|deux|trois|quatre|plusieurs|several|two|three", "outages|pannes|coupures|avis|notices|floods|inondations|refoulements|backups|bris|breaks"], 1),
    phrase(Kind::Past, "past", &["after|apres", "the|la|le|l|une|an|a", "outage|panne|coupure|blackout|storm|tempete|orage|inondation|flood|notice|avis"], 0),
    // Planned or hypothetical.
    // "Is it planned or a break?" asks about water that is off now: that does not disarm.
    PhraseDef {
        kind: Kind::NotCurrent,
        topic: "planned",
        slots: &["prevu|prevue|prevus|prevues|planifie|planifiee|planifiees|planned|scheduled|programme|programmee"],
        gap: 0,
        excluding: "ou|or",
    },
    phrase(Kind::NotCurrent, "planned", &["va|vont", "y", "avoir"], 0),
    phrase(Kind::NotCurrent, "planned", &["y", "aura|aurait"], 0),
    phrase(Kind::NotCurrent, "planned", &["will", "there", "be"], 0),
    phrase(Kind::NotCurrent, "planned", &["will|va|vont|sera|seront", "be|etre|get|getting", "cut|coupe|coupee|coupees|coupes|interrompu|interrompue|interrompus|shut|ferme|fermee|fermees"], 1),
    phrase(Kind::NotCurrent, "planned", &["there", "going", "to", "be"], 0),
    phrase(Kind::NotCurrent, "planned", &["va|vont|will|going", "sonner|ring|sound|retentir"], 2),
    phrase(Kind::NotCurrent, "hypothetical", &["en|in", "cas|case"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["que|quoi", "faire", "si|en|quand|lorsque|lors"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["what", "to", "do", "if|in|when"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["what", "do|should", "if"], 3),
    phrase(Kind::NotCurrent, "hypothetical", &["si|if", "jamais|ever"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["what", "if"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["si|if", "on|we|i|je|nous|you|vous|le|la|l|the|our|notre|nos|my|mon|ma", "perd|perdons|perdez|perdait|lose|loses|lost|manque|manquait|coupe|goes|tombe|tombait|saute|sautait"], 2),
    phrase(Kind::NotCurrent, "hypothetical", &["si|if", "i|we|you|u|on|je|j|tu|vous|nous|ca|it|there|someone|quelqu|ever|jamais", "smell|smells|sens|sent|sentez|sentons|see|vois|voit|voyez|voyons|notice|remarque|remarquez|spot"], 2),
    phrase(Kind::NotCurrent, "hypothetical", &["hypothetically|hypothetiquement|hypothetique|hypothetical|theoriquement|theoretically"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["si", "un", "jour"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["if", "i|we|you|it|there|someone", "ever"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["prochaine|prochain|next", "fois|time|hiver|winter|ete|summer|year|annee|printemps|spring|automne|fall"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["un", "jour"], 0),
    phrase(Kind::NotCurrent, "general question", &["reglement|reglements|reglementation|bylaw|bylaws|regulation|regulations|=difference|=differences|generalement|habituellement|normalement|usually|generally|typically|=alertes|=alerts|=notifications|subscribe|abonner|inscrire|minscrire|carte|map|reclamation|reclamations|claim|claims|indemnisation|assurance|insurance|preparer|preparing|prepare|preparation|checklist|future|avance|ahead|volunteer|benevole|benevoles"], 0),
    phrase(Kind::NotCurrent, "general question", &["sign", "up"], 0),
    phrase(Kind::NotCurrent, "general question", &["en|in", "general"], 0),
    phrase(Kind::NotCurrent, "hypothetical", &["what|quoi|que", "do|faire", "during|pendant|lors"], 2),
    phrase(Kind::NotCurrent, "general question", &["question|curiosite", "generale|general"], 1),
    phrase(Kind::NotCurrent, "general question", &["general|simple|pure|just", "question|curiosite|curious"], 0),
    // Going on now: overrides the kinds above.
    phrase(Kind::Ongoing, "ongoing", &["depuis|since|still|toujours|actuellement|presentement|currently|maintenant|now|urgent|urgence|emergency|vite|asap|secours|help|danger|dangereux|dangerous"], 0),
    phrase(Kind::Ongoing, "ongoing", &["en|right", "ce|now", "moment"], 0),
    // "Un bris ou une coupure prévue?" asks about water that is off now.
    phrase(Kind::Ongoing, "ongoing", &["bris|break|fuite|leak", "ou|or"], 1),
    phrase(Kind::Ongoing, "ongoing", &["ou|or", "bris|break|fuite|leak|accident|probleme|problem"], 3),
    phrase(Kind::Ongoing, "ongoing", &["ce|cet|this|a", "matin|soir|apres|morning|evening|afternoon"], 0),
    phrase(Kind::Ongoing, "ongoing", &["aujourdhui|today|tonight|tantot"], 0),
    phrase(Kind::Ongoing, "ongoing", &["vient|viens|just", "de|d"], 0),
];

// The "encore" of "encore une fois" (once again) or "encore une coupure" (yet another) recalls
// past events; any other "encore" (still) says it is going on. Kept out of the table because
// it needs a negative look-ahead.
fn encore_means_still(norm: &Normalized, i: usize) -> bool {
    !(i + 1 < norm.len() && matches!(norm.token(i + 1), "un" | "une"))
}

fn table() -> &'static PhraseTable<Kind> {
    static TABLE: OnceLock<PhraseTable<Kind>> = OnceLock::new();
    TABLE.get_or_init(|| PhraseTable::compile(DEFS, true))
}

/// A hazard phrase found in a message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Hazard {
    pub topic: &'static str,
    /// The matched words, normalized.
    pub phrase: String,
    /// Why it does not count, when it does not: the context phrase that disarmed it.
    pub disarmed_by: Option<String>,
    /// What kind of context disarmed it: "not current", "billing" or "figurative".
    pub guard: &'static str,
}

impl Hazard {
    pub fn reason(&self) -> String {
        let concept = Concept::of_topic(self.topic)
            .map(|c| format!("{c}: "))
            .unwrap_or_default();
        match &self.disarmed_by {
            None => format!(
                "hazard phrase: \"{}\" ({concept}{})",
                self.phrase, self.topic
            ),
            Some(context) => format!(
                "hazard phrase ignored: \"{}\" ({concept}{}), {}: \"{}\"",
                self.phrase, self.topic, self.guard, context
            ),
        }
    }

    /// A person injured, trapped, unable to breathe, calling for help, or vulnerable and
    /// deprived: the safety net raises these whatever the model says.
    pub fn is_danger_to_a_person(&self) -> bool {
        matches!(
            self.concept(),
            Some(Concept::PersonAtRisk | Concept::VulnerablePerson | Concept::BlockedAccess)
        ) && self.topic != "call for help"
    }

    /// A hazard that is rarely said of anything else and harms whoever is there: gas, carbon
    /// monoxide, smoke or fire, sewage or water coming into a home, a live wire on the ground,
    /// sparking, or under a tree or branch. When armed (not past,
    /// planned, billed or figurative) the safety net raises it whatever the model says,
    /// as it does a danger to a person.
    pub fn is_severe(&self) -> bool {
        SEVERE.contains(&self.topic)
    }

    /// The concept group of the phrase, if it belongs to one.
    pub fn concept(&self) -> Option<Concept> {
        Concept::of_topic(self.topic)
    }
}

/// The topics of a wire that may be live: a standing or recurring one is a danger now.
const LIVE_WIRE: &[&str] = &["downed power line", "tree on power lines", "sparks"];

/// The topics of [`Hazard::is_severe`].
const SEVERE: &[&str] = &[
    "gas leak",
    "downed power line",
    "tree on power lines",
    "sparks",
    "carbon monoxide",
    "sewer backup",
    "fire",
    "explosion",
    "smoke",
    "flooding",
    "dangerous animal",
];

/// How far (in tokens) a past or planned phrase reaches to disarm a hazard of its sentence.
const CONTEXT_REACH: usize = 10;

/// Buffers reused from one message to the next.
#[derive(Debug, Default)]
pub(crate) struct RuleScratch {
    marks: Marks,
    contexts: Vec<(Kind, usize, usize)>,
    hazards: Vec<(&'static str, usize, usize)>,
    /// Concepts found by feature-only phrases and by billing phrases.
    cues: Vec<Concept>,
    /// Other feature-only phrases found ("complaint as a question").
    phrase_cues: Vec<&'static str>,
}

impl RuleScratch {
    /// The kinds of context the last message had, as names for the model's features:
    /// the model learns, for instance, that a past outage is usually a complaint.
    pub fn context_cues(&self, mut cue: impl FnMut(&'static str)) {
        for (kind, name) in [
            (Kind::Past, "context:past"),
            (Kind::Resolved, "context:resolved"),
            (Kind::Chronic, "context:chronic"),
            (Kind::NotCurrent, "context:not-current"),
            (Kind::Ongoing, "context:ongoing"),
            (Kind::Billing, "context:billing"),
            (Kind::Figurative, "context:figurative"),
            (Kind::Admin, "context:administrative"),
            (Kind::Event, "context:event"),
        ] {
            if self.contexts.iter().any(|c| c.0 == kind) {
                cue(name);
            }
        }
        for &name in &self.phrase_cues {
            cue(name);
        }
    }

    /// Whether the last message is about money, a fine, a permit or a form.
    pub fn administrative(&self) -> bool {
        self.contexts.iter().any(|c| c.0 == Kind::Admin)
    }

    /// The concepts found by phrases that raise nothing (billing, "cannot get out"...).
    pub fn concepts(&self) -> &[Concept] {
        &self.cues
    }
}

/// Finds the hazard phrases of a message, armed or disarmed, and puts them in `out`.
pub(crate) fn hazards(
    seg: &Segmented,
    norm: &Normalized,
    scratch: &mut RuleScratch,
    out: &mut Vec<Hazard>,
) {
    out.clear();
    let table = table();
    scratch.contexts.clear();
    scratch.hazards.clear();
    scratch.cues.clear();
    scratch.phrase_cues.clear();
    if !table.mark(norm, &mut scratch.marks) {
        return;
    }
    table.find(&mut scratch.marks, |p, at| {
        let (start, end) = (at[0], at[at.len() - 1]);
        match p.kind {
            Kind::Hazard => scratch.hazards.push((p.topic, start, end)),
            Kind::Cue => match Concept::of_topic(p.topic) {
                Some(concept) => scratch.cues.push(concept),
                None => scratch.phrase_cues.push(p.topic),
            },
            Kind::Billing => {
                scratch.cues.push(Concept::UtilityBilling);
                scratch.contexts.push((Kind::Billing, start, end));
            }
            kind => scratch.contexts.push((kind, start, end)),
        }
    });
    scratch.cues.sort_unstable();
    scratch.cues.dedup();
    for i in 0..norm.len() {
        if norm.token(i) == "encore" && encore_means_still(norm, i) {
            scratch.contexts.push((Kind::Ongoing, i, i));
        }
    }
    let word = |i: usize| &seg.words[norm.tokens[i].word];
    // Everything below looks only at contexts near a position, found by binary search over
    // contexts sorted by start: a long text must not cost quadratic time.
    let reach = table.max_span();
    let contexts = &mut scratch.contexts;
    contexts.sort_unstable_by_key(|c| c.1);
    // "Le courant est-tu revenu?" asks whether it is over: the outage may well be going on.
    contexts.retain(|&(kind, a, _)| !(kind == Kind::Resolved && word(a).question));
    // The "depuis" of "depuis des semaines" dates a standing problem, not an ongoing one.
    // So does the "since" of "since the flood", which names the event.
    let dating: Vec<(usize, usize)> = contexts
        .iter()
        .filter(|c| matches!(c.0, Kind::Chronic | Kind::Event))
        .map(|c| (c.1, c.2))
        .collect();
    contexts.retain(|&(kind, a, b)| {
        kind != Kind::Ongoing
            || !spans_near(&dating, a.saturating_sub(reach), b)
                .iter()
                .any(|&(_, cb)| cb >= a)
    });
    // "Dangereux" in "chiens dangereux" names the hazard; it says nothing of when.
    let hazards_found = &scratch.hazards;
    contexts.retain(|&(kind, a, b)| {
        kind != Kind::Ongoing
            || a != b
            || !matches!(
                norm.token(a),
                "danger" | "dangereux" | "dangereuse" | "dangerous"
            )
            || !hazards_found.iter().any(|&(_, hs, he)| hs <= a && a <= he)
    });
    let mut ongoing: Vec<u32> = contexts
        .iter()
        .filter(|c| c.0 == Kind::Ongoing)
        .map(|c| word(c.1).sentence)
        .collect();
    ongoing.sort_unstable();
    ongoing.dedup();
    // The billing phrases by sentence, one per sentence.
    let mut billed: Vec<(u32, usize, usize)> = contexts
        .iter()
        .filter(|c| c.0 == Kind::Billing)
        .map(|c| (word(c.1).sentence, c.1, c.2))
        .collect();
    billed.sort_unstable();
    billed.dedup_by_key(|b| b.0);
    let admin = contexts
        .iter()
        .find(|c| c.0 == Kind::Admin)
        .map(|c| (word(c.1).sentence, c.1, c.2));
    // A message that says nothing is going on, and asks in general or for next time, asks
    // about every hazard it names, in any of its sentences.
    let general = if ongoing.is_empty() {
        contexts
            .iter()
            .find(|c| c.0 == Kind::NotCurrent)
            .map(|c| (c.1, c.2))
    } else {
        None
    };
    for &(topic, start, end) in &scratch.hazards {
        // One report per topic: overlapping phrases say the same thing.
        if out
            .iter()
            .any(|h| h.topic == topic && h.disarmed_by.is_none())
        {
            continue;
        }
        let near = contexts_near(contexts, start.saturating_sub(reach), end);
        if near
            .iter()
            .any(|&(kind, _, b)| kind == Kind::Veto && b >= start)
        {
            continue;
        }
        let s = word(start).sentence;
        // A figure of speech, an animal or an event's name the phrase belongs to: it says
        // nothing of a danger to people now.
        let aside = near.iter().find(|&&(kind, a, b)| {
            match kind {
                Kind::Figurative | Kind::Animal => a <= end && b >= start,
                // The event's name is the hazard's first word or follows the event's start
                // ("since the flood"); a danger told before it stands ("dehors depuis
                // l'évacuation").
                Kind::Event => a <= start && b >= start,
                _ => false,
            }
        });
        // A bill makes its sentence no emergency, and its whole message no bare call for
        // urgency ("URGENT!!! ma facture d'eau a doublé").
        let bare_call = matches!(topic, "emergency" | "call for help");
        let billing = if bare_call {
            billed.first().or(admin.as_ref())
        } else {
            billed
                .binary_search_by_key(&s, |&(sentence, _, _)| sentence)
                .ok()
                .map(|i| &billed[i])
        };
        let (disarmed_by, guard) = if let Some(&(kind, a, b)) = aside {
            let guard = match kind {
                Kind::Animal => "about an animal",
                Kind::Event => "names a past event",
                _ => "figurative",
            };
            (Some(join(norm, a, b)), guard)
        } else if let Some(&(_, a, b)) = billing {
            (Some(join(norm, a, b)), "billing or administrative matter")
        } else if ongoing.binary_search(&s).is_ok() {
            (None, "")
        } else {
            let context = contexts_near(
                contexts,
                start.saturating_sub(CONTEXT_REACH + reach),
                end + CONTEXT_REACH,
            )
            .iter()
            .find(|&&(kind, a, b)| {
                // A live wire that sparks "every time the wind gusts", or "for weeks", is
                // live now: only the past, the resolved and the hypothetical disarm it.
                let chronic = kind == Kind::Chronic && !LIVE_WIRE.contains(&topic);
                (chronic || matches!(kind, Kind::Past | Kind::Resolved | Kind::NotCurrent))
                    && b + CONTEXT_REACH >= start
                    && word(a).sentence == s
            })
            .map(|&(_, a, b)| join(norm, a, b))
            .or_else(|| general.map(|(a, b)| join(norm, a, b)));
            (context, "not current")
        };
        out.retain(|h| h.topic != topic);
        out.push(Hazard {
            topic,
            phrase: join(norm, start, end),
            disarmed_by,
            guard,
        });
    }
}

/// The contexts (sorted by start) that start between `lo` and `hi`, inclusive.
fn contexts_near(
    contexts: &[(Kind, usize, usize)],
    lo: usize,
    hi: usize,
) -> &[(Kind, usize, usize)] {
    let from = contexts.partition_point(|c| c.1 < lo);
    let to = contexts.partition_point(|c| c.1 <= hi);
    &contexts[from..to.max(from)]
}

/// The spans (sorted by start) that start between `lo` and `hi`, inclusive.
fn spans_near(spans: &[(usize, usize)], lo: usize, hi: usize) -> &[(usize, usize)] {
    let from = spans.partition_point(|c| c.0 < lo);
    let to = spans.partition_point(|c| c.0 <= hi);
    &spans[from..to.max(from)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::normalize::{normalize_words, segment};

    fn found(text: &str) -> Vec<Hazard> {
        let mut seg = Segmented::default();
        let mut norm = Normalized::default();
        segment(text, &mut seg);
        normalize_words(&seg, &mut norm);
        let mut out = Vec::new();
        hazards(&seg, &norm, &mut RuleScratch::default(), &mut out);
        out
    }

    fn armed(text: &str) -> Vec<&'static str> {
        found(text)
            .into_iter()
            .filter(|h| h.disarmed_by.is_none())
            .map(|h| h.topic)
            .collect()
    }

    #[test]
    fn asking_whether_a_cut_is_planned_or_a_break_is_about_a_cut_now() {
        assert_eq!(
            armed("ya tu une panne d'eau prévue ou c un bris sur ma rue?"),
            vec!["no water"]
        );
        assert!(armed("y a tu une coupure d'eau prévue demain sur ma rue?").is_empty());
    }

    #[test]
    fn a_fire_truck_that_could_not_get_in_is_blocked_access() {
        assert_eq!(
            armed("fire truck couldnt get in, the plow left a wall on our street"),
            vec!["ambulance cannot reach"]
        );
    }

    #[test]
    fn a_move_a_burnt_out_lamp_and_an_outage_that_may_come_are_no_danger_to_a_person() {
        assert_eq!(
            armed("im moving out, how do i close my water account"),
            Vec::<&str>::new()
        );
        assert_eq!(
            armed("jai trouvé un chien perdu avec pas de médaille"),
            Vec::<&str>::new()
        );
        assert_eq!(
            armed("mon pere a perdu connaissance"),
            vec!["person unconscious"]
        );
        assert_eq!(
            armed("he is not moving, send help"),
            vec!["person unconscious", "call for help"]
        );
        assert_eq!(
            armed("on a signalé le lampadaire brulé en octobre pis il est encore brulé"),
            Vec::<&str>::new()
        );
        assert_eq!(
            armed("mon fils s'est brulé la main sur la grille"),
            vec!["person burned"]
        );
        assert!(armed("if we lose power during the storm do we call you or hydro").is_empty());
        assert!(armed("on fait quoi si le courant manque cet hiver").is_empty());
    }

    #[test]
    fn an_animal_a_driveway_a_phone_tree_and_a_standing_smell_are_no_danger_to_a_person() {
        assert_eq!(
            armed("jai trouver un chat errant blessé a la patte"),
            Vec::<&str>::new()
        );
        assert!(
            !armed("le chantier bloque mon entrée de garage depuis 3 jours")
                .contains(&"person trapped")
        );
        assert!(!armed("help, the phone tree keeps hanging up on me").contains(&"fallen tree"));
        assert_eq!(
            armed("why does the arena always smell like propane"),
            Vec::<&str>::new()
        );
        assert_eq!(
            armed("what if the river floods our street again"),
            Vec::<&str>::new()
        );
        // The same words about a person still raise.
        assert!(armed("mon fils est blessé à la jambe").contains(&"person injured"));
        assert!(armed("someone is trapped in the elevator").contains(&"person trapped"));
        assert!(armed("mon voisin est bloqué dans son garage").contains(&"person trapped"));
    }

    #[test]
    fn gas_smells_are_hazards_in_both_languages_with_typos() {
        assert_eq!(armed("Ça sent le gaz dans la rue!"), ["gas leak"]);
        assert_eq!(armed("odeur de gaz au coin de ma rue"), ["gas leak"]);
        assert_eq!(armed("forte odeur de gas"), ["gas leak"]);
        assert_eq!(armed("ODEUR DE GAZ!!!"), ["gas leak"]);
        assert_eq!(armed("strong gas smell on Main St"), ["gas leak"]);
        assert_eq!(armed("it smells like gas outside"), ["gas leak"]);
        assert_eq!(armed("je pense qu'il y a une fuite de gaz"), ["gas leak"]);
    }

    #[test]
    fn water_and_power_cuts_are_hazards() {
        assert_eq!(armed("ya pu d'eau depuis ce matin"), ["no water"]);
        assert_eq!(armed("On a pas d'eau sur la 3e avenue"), ["no water"]);
        assert_eq!(
            armed("avis d'ébullition dans mon secteur?"),
            ["boil-water notice"]
        );
        assert_eq!(
            armed("Panne d'électricité sur toute la rue"),
            ["power outage"]
        );
        assert_eq!(armed("panne d'electricte"), ["power outage"]);
        assert_eq!(armed("no power on Elm street"), ["power outage"]);
        assert_eq!(armed("power is out since 6am"), ["power outage"]);
        assert_eq!(
            armed("water main break at the corner"),
            ["water main break"]
        );
        assert_eq!(armed("bris d'aqueduc coin Laurier"), ["water main break"]);
    }

    #[test]
    fn each_emergency_is_found_under_its_usual_synonyms() {
        for text in [
            "we lost power on our whole block",
            "On a perdu le courant sur la rue des Érables",
            "coupure de courant dans Limoilou",
            "the hydro is gone on 5th avenue",
            "le courant a sauté dans tout le secteur",
            "our building is out of power",
        ] {
            assert_eq!(armed(text), ["power outage"], "{text}");
        }
        for text in [
            "do we still have to boil our water?",
            "est-ce qu'on peut boire au robinet?",
            "faut-tu faire bouillir?",
            "is it safe to drink now?",
            "is the water advisory lifted?",
            "ébullition préventive dans mon coin?",
            "lavis debullition est tu fini?",
        ] {
            assert_eq!(armed(text), ["boil-water notice"], "{text}");
        }
        assert_eq!(armed("we lost water pressure"), ["no water"]);
        assert_eq!(armed("refoulement degout au sous-sol"), ["sewer backup"]);
        // The guards still hold.
        assert!(armed("I lost my hydro bill, can you send it again?").is_empty());
        assert!(armed("we lost power last week for two days").is_empty());
        assert!(armed("the boil water advisory was lifted yesterday").is_empty());
    }

    #[test]
    fn other_hazards_are_found() {
        assert_eq!(
            armed("un fil électrique tombé sur le trottoir"),
            ["downed power line"]
        );
        assert_eq!(
            armed("downed power line on my street"),
            ["downed power line"]
        );
        assert_eq!(
            armed("refoulement d'égout dans mon sous-sol"),
            ["sewer backup"]
        );
        assert_eq!(armed("sewer backup in the basement"), ["sewer backup"]);
        assert_eq!(
            armed("les feux de circulation marchent pas"),
            ["traffic lights out"]
        );
        assert_eq!(
            armed("traffic lights are out at Main and 5th"),
            ["traffic lights out"]
        );
        assert_eq!(armed("un trou béant dans la rue"), ["sinkhole"]);
        assert_eq!(armed("the street is flooded"), ["flooding"]);
    }

    #[test]
    fn ordinary_requests_are_not_hazards() {
        assert!(armed("Quand passe le camion de recyclage?").is_empty());
        assert!(armed("pas d'eau chaude au centre sportif").is_empty());
        assert!(armed("je suis pas au courant de la collecte").is_empty());
        assert!(armed("what are the pool hours").is_empty());
        assert!(armed("Is my house in a flood zone?").is_empty());
    }

    #[test]
    fn a_wire_that_sparks_again_and_again_is_live_now() {
        assert_eq!(
            armed("every time the wind blows the wires on Elm throw sparks"),
            ["sparks"]
        );
        assert_eq!(
            armed("les fils font des étincelles chaque fois qu'il vente"),
            ["sparks"]
        );
        assert_eq!(
            armed("there's a wire hanging down from the pole for 2 weeks now"),
            ["downed power line"]
        );
        // A flood that comes back with every storm is a standing problem, not one now.
        assert!(armed("every time it rains the street is flooded").is_empty());
        // The past and the hypothetical still disarm a wire.
        assert!(armed("a wire was sparking on our street last week").is_empty());
    }

    #[test]
    fn a_past_outage_is_skipped() {
        assert!(armed("La semaine passée on a eu une panne de courant de 10 heures").is_empty());
        assert!(armed("Hier on a eu une panne d'électricité, c'est inacceptable").is_empty());
        assert!(armed("the power was out last week for two days").is_empty());
        assert!(armed("Le courant est revenu mais la panne a duré 6h").is_empty());
        let skipped = found("the power was out yesterday");
        assert_eq!(skipped.len(), 1);
        assert!(skipped[0].reason().contains("not current"));
    }

    #[test]
    fn a_past_marker_does_not_hide_an_ongoing_hazard() {
        assert_eq!(armed("depuis hier on a plus d'eau"), ["no water"]);
        assert_eq!(armed("still no power since yesterday"), ["power outage"]);
        assert_eq!(
            armed("Encore une fois il y a deux semaines une panne. Là ça sent le gaz!"),
            ["gas leak"]
        );
        assert_eq!(
            armed("la panne de courant d'hier est encore là"),
            ["power outage"]
        );
    }

    #[test]
    fn danger_to_a_person_is_found_without_hazard_words() {
        for (text, topic) in [
            (
                "mon voisin est tombé dans l'escalier il se relève pas",
                "person fell",
            ),
            ("my dad is bleeding from his head", "person injured"),
            (
                "ya quelqu un de coince dans lascenseur du metro",
                "person trapped",
            ),
            (
                "we are trapped on the second floor water everywhere",
                "person trapped",
            ),
            ("ma fille arrive pu a respirer", "cannot breathe"),
            ("aidez nous svp on est 4 sur le toit", "call for help"),
            (
                "please send help we have nothing to eat since 2 days",
                "call for help",
            ),
            (
                "ma mère n'a plus de médicaments pour son coeur",
                "without medication",
            ),
            (
                "grand-mère de 90 ans, pas de chauffage, elle gèle",
                "vulnerable person without heat",
            ),
            (
                "l'ambulance peut pas passer, la rue est bloquée",
                "ambulance cannot reach",
            ),
            (
                "the railroad crossing gates are stuck up and cars are crossing",
                "railway crossing barrier",
            ),
            ("l'alarme de l'école sonne sans arrêt", "alarm ringing"),
            (
                "odeur chimique forte près de la piscine municipale",
                "chemical smell",
            ),
            ("on est dans le noir depuis 19h, 6 maisons", "in the dark"),
            (
                "the boardwalk has a rotten plank, my daughter went through up to her waist",
                "person fell through",
            ),
            (
                "mon gars a passé au travers de la glace au parc",
                "person fell through",
            ),
            (
                "the dock at the marina has a rotten board, a boy's leg went right through",
                "person fell through",
            ),
            (
                "rien marche chez nous depuis 6h, frigo, chauffage, tout le rang pareil",
                "in the dark",
            ),
            (
                "the whole of Rue Dufferin is dark since 8pm, what happened",
                "in the dark",
            ),
            ("fridge dead, furnace dead, whole block dark", "in the dark"),
            (
                "les ambulanciers transportent ma mère à pied jusqu'au coin",
                "ambulance cannot reach",
            ),
            (
                "we heard the transformer blow and the street has nothing now",
                "sparks",
            ),
        ] {
            assert!(armed(text).contains(&topic), "{text}: {:?}", found(text));
        }
    }

    #[test]
    fn bills_and_figures_of_speech_are_no_emergency() {
        for text in [
            "URGENT ma facture d'électricité a doublé, c'est quoi ça?",
            "help!! my water bill is 900$ this quarter",
            "pas d'eau chaude sur ma facture? pourquoi je paie la taxe d'eau",
            "je vais exploser si mon compte de taxes augmente encore",
            "I'm dying of boredom waiting on hold for 2 hours",
            "vous nous laissez dans le noir sur les travaux",
            "the emergency sirens get tested Thursday at noon, right?",
            "ma boite de courriel explose avec vos avis, comment je me désabonne?",
            "nothing works on your website, the permit form is broken",
            "do you offer a rebate for switching from an oil furnace to electric heating?",
            "la sirène d'alerte va sonner mercredi, c'est le test annuel?",
            "la rue est noire le soir depuis que le lampadaire est brûlé",
            "our street is dark at night, the streetlight's been out for weeks",
            "we got flooded with flyers again",
            "my car alarm keeps going off when the plow passes",
        ] {
            assert!(armed(text).is_empty(), "{text}: {:?}", found(text));
        }
        let ignored = found("URGENT!!! ma facture d'eau a doublé");
        assert!(
            ignored.iter().any(|h| h.reason().contains("billing")),
            "{ignored:?}"
        );
        // A real outage next to a bill, in its own sentence, still counts.
        assert_eq!(
            armed("Ma facture est arrivée. Pas de courant depuis 2 jours chez nous!"),
            ["power outage"]
        );
    }

    #[test]
    fn a_past_injury_is_not_current() {
        assert!(armed("mon fils s'est blessé sur la balançoire la semaine passée").is_empty());
        assert!(armed("last year someone got hurt on that corner").is_empty());
    }

    #[test]
    fn planned_or_hypothetical_events_are_skipped() {
        assert!(armed("Que faire en cas d'odeur de gaz?").is_empty());
        assert!(armed("si un jour je sens le gaz, qui j'appelle?").is_empty());
        assert!(armed("if I ever smell gas, who do I call?").is_empty());
        assert!(armed("what to keep at home during a power outage, for next time").is_empty());
        assert!(armed("Encore une coupure d'eau hier, on est tannés").is_empty());
        assert!(armed("the street flooded three times this year").is_empty());
        assert!(armed("Y aura-t-il une coupure d'eau prévue demain?").is_empty());
        assert!(armed("scheduled power outage on Tuesday?").is_empty());
    }

    #[test]
    fn an_event_named_once_it_is_over_raises_nothing() {
        for text in [
            "potholes all over Maple since the flood, please fill them",
            "can I get a delay on my tax payment because of the flood",
            "y'a tu une aide financière pour les inondés du printemps?",
            "does the city pick up furniture ruined in the flood, which day?",
            "still no answer on my sewer backup claim from the spring flood",
            "toujours pas de nouvelles de ma réclamation pour le refoulement d'égout",
            "where can I get a water test kit for my well now that the flood is gone",
            "Les encombrants de l'inondation sont toujours sur le trottoir, merci de les enlever",
        ] {
            assert!(armed(text).is_empty(), "{text}: {:?}", found(text));
        }
        assert!(found("kept on hold during the blackout")
            .iter()
            .any(|h| h.reason().contains("names a past event")));
        // What is going on now still counts beside the event's name.
        assert_eq!(
            armed("l'eau rentre dans le sous-sol depuis la tempête"),
            ["flooding"]
        );
        assert_eq!(
            armed("pu de courant depuis la tempête, ma mère a 90 ans et on gèle"),
            ["power outage", "vulnerable person without heat"]
        );
    }

    #[test]
    fn hazard_words_said_of_apps_or_in_case_of_are_not_current() {
        assert!(armed("this app is on fire today, best budget tracker").is_empty());
        assert!(
            armed("my inbox is on fire, everyone on Lakeview asks about the potholes").is_empty()
        );
        assert!(armed("what's the number to call if I smell gas? for the fridge").is_empty());
        assert!(armed("si jamais ça sent le gaz, j'appelle qui?").is_empty());
        assert_eq!(armed("the shed is on fire"), ["fire"]);
        assert_eq!(armed("ça sent le gaz dans ma rue"), ["gas leak"]);
        for text in [
            "no hot water in the showers of the pool change rooms all summer",
            "c quoi le règlement sur les chiens dangereux en général?",
            "the notice says the water will be cut Thursday, is it all day?",
            "l'eau va être coupée jeudi sur ma rue, c'est pour combien de temps?",
        ] {
            assert!(armed(text).is_empty(), "{text}: {:?}", found(text));
        }
        assert!(armed("l'eau d'égout remonte par le drain de la douche").contains(&"flooding"));
        assert_eq!(
            armed("loose dog bit a little boy at the park, dog still there"),
            ["dangerous animal"]
        );
    }

    #[test]
    fn dangers_told_without_hazard_words_are_found() {
        for (text, topic) in [
            ("fire at 410 Dufferin spreading to next house", "fire"),
            (
                "need a boat at 3 Fisher Lane 5 people, 1 pregnant",
                "person in danger",
            ),
            (
                "where can we sleep tonight our house is full of water",
                "flooding",
            ),
            (
                "son feeding pump battery almost dead, where can I charge it",
                "medical equipment without power",
            ),
            (
                "avez vous des couvertes on est dehors depuis l'évacuation avec les petits",
                "without shelter",
            ),
            (
                "y a pu d'eau dans le secteur, c'est tu un bris ou ben une coupure prevue?",
                "no water",
            ),
            (
                "ya tu une panne d'eau prévue sur Maguire ou c'est un bris?",
                "no water",
            ),
        ] {
            assert!(armed(text).contains(&topic), "{text}: {:?}", found(text));
        }
    }
}
