//! The search box: turns phrases such as `red car in "rue piétonne" after 14:00 yesterday` or
//! `camion blanc hier entre 14h et 15h` into search filters, and says which words it did not
//! understand instead of guessing.

use crate::colour::NamedColor;
use crate::query::SearchQuery;
use crate::summarize::Direction;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};
use serde::Serialize;
use std::time::SystemTime;
use vigie_core::classes::{BAG_CLASSES, PERSON, VEHICLE_CLASSES};

/// Lower case without French accents, for matching words and names.
pub fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            '’' | '`' => '\'',
            c => c,
        })
        .collect()
}

/// Detector class names meant by a word (English or French, singular or plural).
pub fn class_word(word: &str) -> Option<&'static [&'static str]> {
    let w = fold(word);
    let w = w.as_str();
    Some(match w {
        "person" | "persons" | "people" | "pedestrian" | "pedestrians" | "personne" | "personnes" | "pieton"
        | "pietons" | "pietonne" | "pietonnes" | "passant" | "passants" => &[PERSON],
        "car" | "cars" | "voiture" | "voitures" | "auto" | "autos" | "automobile" | "automobiles" => &["car"],
        "truck" | "trucks" | "lorry" | "lorries" | "van" | "vans" | "camion" | "camions" | "camionnette"
        | "camionnettes" | "utilitaire" | "utilitaires" => &["truck"],
        "bus" | "buses" | "busses" | "autobus" | "autocar" | "autocars" | "car-bus" => &["bus"],
        "bike" | "bikes" | "bicycle" | "bicycles" | "cycle" | "cycles" | "velo" | "velos" | "bicyclette"
        | "bicyclettes" | "cyclist" | "cyclists" | "cycliste" | "cyclistes" => &["bicycle"],
        "motorbike" | "motorbikes" | "motorcycle" | "motorcycles" | "moto" | "motos" | "scooter" | "scooters" => {
            &["motorcycle"]
        }
        "vehicle" | "vehicles" | "vehicule" | "vehicules" => &VEHICLE_CLASSES,
        "bag" | "bags" | "sac" | "sacs" | "bagage" | "bagages" | "luggage" => &BAG_CLASSES,
        "backpack" | "backpacks" | "sac-a-dos" => &["backpack"],
        "handbag" | "handbags" | "sac-a-main" => &["handbag"],
        "suitcase" | "suitcases" | "valise" | "valises" => &["suitcase"],
        "dog" | "dogs" | "chien" | "chiens" => &["dog"],
        _ => return None,
    })
}

/// Names the parser can recognise without quotes.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    pub cameras: Vec<String>,
    pub zones: Vec<String>,
    /// Other words for places: a camera's name, a kind of zone ("square", "place").
    pub aliases: Vec<PlaceAlias>,
}

/// Words that mean cameras or zones without being their names: "Place de la Gare" for the
/// camera `plaza`, "square" for every zone of that kind. Matched like names (longest run of
/// words wins; a real name of the same length wins over an alias).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PlaceAlias {
    pub words: String,
    pub cameras: Vec<String>,
    pub zones: Vec<String>,
}

/// The words people use for a kind of zone, English and French (folded).
pub fn zone_kind_words(kind: &str) -> &'static [&'static str] {
    match kind {
        "square" => &["square", "squares", "place", "places", "plaza", "piazza", "parvis"],
        "pedestrian_street" => &[
            "pedestrian street",
            "pedestrian zone",
            "pedestrian area",
            "rue pietonne",
            "zone pietonne",
            "aire pietonne",
        ],
        "lane" => &["lane", "lanes", "voie", "voies", "road", "route", "chaussee"],
        "forbidden" => &["forbidden zone", "forbidden area", "restricted area", "zone interdite"],
        "wall" => &["wall", "walls", "mur", "murs", "facade", "facades"],
        _ => &[],
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParsedQuery {
    pub query: SearchQuery,
    /// One line per filter read from the text, e.g. `colour: red`.
    pub understood: Vec<String>,
    /// Words that matched nothing, as typed.
    pub not_understood: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Quoted(String),
}

fn tokenize(q: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = q.chars().peekable();
    let flush = |cur: &mut String, out: &mut Vec<Tok>| {
        let w = cur.trim_matches(|c: char| matches!(c, ',' | ';' | '.' | '?' | '!' | '(' | ')'));
        if !w.is_empty() {
            // French elision: "l'entrée" is "l'" + "entrée" (aujourd'hui and jusqu'à stay whole).
            match w.find(['\'', '’']) {
                Some(pos) if matches!(fold(&w[..pos]).as_str(), "l" | "d") && pos + 1 < w.len() => {
                    let rest = &w[pos + w[pos..].chars().next().map_or(1, char::len_utf8)..];
                    out.push(Tok::Word(format!("{}'", &w[..pos])));
                    if !rest.is_empty() {
                        out.push(Tok::Word(rest.to_string()));
                    }
                }
                _ => out.push(Tok::Word(w.to_string())),
            }
        }
        cur.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '"' | '«' | '“' | '”' => {
                flush(&mut cur, &mut out);
                let close = match c {
                    '«' => '»',
                    '“' => '”',
                    _ => '"',
                };
                let mut s = String::new();
                for d in chars.by_ref() {
                    if d == close || (close == '”' && d == '"') {
                        break;
                    }
                    s.push(d);
                }
                let s = s.trim().to_string();
                if !s.is_empty() {
                    out.push(Tok::Quoted(s));
                }
            }
            c if c.is_whitespace() || c == ',' => flush(&mut cur, &mut out),
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn parse_clock(s: &str) -> Option<Time> {
    let f = fold(s);
    let (body, pm) = if let Some(b) = f.strip_suffix("pm") {
        (b, Some(true))
    } else if let Some(b) = f.strip_suffix("am") {
        (b, Some(false))
    } else {
        (f.as_str(), None)
    };
    let (h, m) = if let Some((h, m)) = body.split_once(':').or_else(|| body.split_once('h')).or_else(|| {
        // "14.30" is a time, "3.5" is not.
        body.split_once('.').filter(|(_, m)| m.len() == 2)
    }) {
        (h, if m.is_empty() { "0" } else { m })
    } else if pm.is_some() {
        (body, "0")
    } else {
        return None;
    };
    if h.is_empty() || h.len() > 2 || m.len() > 2 || !h.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut h: i8 = h.parse().ok()?;
    let m: i8 = m.parse().ok()?;
    match pm {
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        Some(_) if h > 12 => return None,
        _ => {}
    }
    if h == 24 && m == 0 {
        return Some(Time::MAX);
    }
    Time::new(h, m, 0, 0).ok()
}

fn month_name(s: &str) -> Option<i8> {
    let f = fold(s);
    let f = f.trim_end_matches('.');
    let months: [&[&str]; 12] = [
        &["january", "jan", "janvier", "janv"],
        &["february", "feb", "fevrier", "fev"],
        &["march", "mar", "mars"],
        &["april", "apr", "avril", "avr"],
        &["may", "mai"],
        &["june", "jun", "juin"],
        &["july", "jul", "juillet", "juil"],
        &["august", "aug", "aout"],
        &["september", "sep", "sept", "septembre"],
        &["october", "oct", "octobre"],
        &["november", "nov", "novembre"],
        &["december", "dec", "decembre"],
    ];
    months.iter().position(|names| names.contains(&f)).map(|i| i as i8 + 1)
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match fold(s).as_str() {
        "monday" | "lundi" => Weekday::Monday,
        "tuesday" | "mardi" => Weekday::Tuesday,
        "wednesday" | "mercredi" => Weekday::Wednesday,
        "thursday" | "jeudi" => Weekday::Thursday,
        "friday" | "vendredi" => Weekday::Friday,
        "saturday" | "samedi" => Weekday::Saturday,
        "sunday" | "dimanche" => Weekday::Sunday,
        _ => return None,
    })
}

fn direction_word(s: &str) -> Option<Direction> {
    Some(match fold(s).trim_end_matches("bound").trim_end_matches("wards") {
        "north" | "nord" | "n" => Direction::N,
        "south" | "sud" | "s" => Direction::S,
        "east" | "est" | "e" => Direction::E,
        "west" | "ouest" | "w" | "o" => Direction::W,
        "northeast" | "north-east" | "nord-est" | "ne" => Direction::NE,
        "northwest" | "north-west" | "nord-ouest" | "nw" | "no" => Direction::NW,
        "southeast" | "south-east" | "sud-est" | "se" => Direction::SE,
        "southwest" | "south-west" | "sud-ouest" | "sw" | "so" => Direction::SW,
        "left" | "gauche" => Direction::W,
        "right" | "droite" => Direction::E,
        _ => return None,
    })
}

/// Seconds per unit word.
fn unit_seconds(s: &str) -> Option<i64> {
    Some(match fold(s).as_str() {
        "s" | "sec" | "secs" | "second" | "seconds" | "seconde" | "secondes" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" | "mn" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" | "heure" | "heures" => 3600,
        "day" | "days" | "jour" | "jours" | "journee" | "journees" => 86_400,
        "week" | "weeks" | "semaine" | "semaines" => 7 * 86_400,
        _ => return None,
    })
}

/// "90s", "5min", "2h" in one token.
fn duration_token(s: &str) -> Option<i64> {
    let f = fold(s);
    let split = f.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (n, u) = f.split_at(split);
    let n: f64 = n.parse().ok()?;
    Some((n * unit_seconds(u)? as f64) as i64)
}

const STOPWORDS: &[&str] = &[
    "a",
    "an",
    "the",
    "of",
    "with",
    "and",
    "or",
    "that",
    "which",
    "who",
    "is",
    "was",
    "were",
    "any",
    "all",
    "some",
    "show",
    "find",
    "me",
    "going",
    "heading",
    "moving",
    "driving",
    "walking",
    "towards",
    "toward",
    "to",
    "stayed",
    "staying",
    "stay",
    "dwelling",
    "for",
    "le",
    "la",
    "les",
    "l'",
    "un",
    "une",
    "des",
    "du",
    "de",
    "d'",
    "et",
    "ou",
    "qui",
    "est",
    "sont",
    "avec",
    "pour",
    "allant",
    "roulant",
    "marchant",
    "direction",
    "reste",
    "restee",
    "restes",
    "restees",
    "montre",
    "moi",
    "cherche",
    "trouve",
    "tous",
    "toutes",
    "au",
    "aux",
    "en",
    "on",
    "sur",
];

/// Reads a text query. Names in `vocab` are recognised unquoted (longest match); quoted
/// phrases are zone names (or camera names if they match one). Time phrases are resolved in
/// `tz` relative to `now`.
pub fn parse_text_query(q: &str, now: SystemTime, tz: &TimeZone, vocab: &Vocabulary) -> ParsedQuery {
    Parser::new(q, now, tz, vocab).run()
}

struct Parser<'a> {
    toks: Vec<Tok>,
    folded: Vec<String>,
    i: usize,
    now: Zoned,
    tz: &'a TimeZone,
    vocab: &'a Vocabulary,
    q: SearchQuery,
    understood: Vec<String>,
    not_understood: Vec<String>,
    days: Option<(Date, Date, String)>,
    after: Option<Time>,
    before: Option<Time>,
    relative: Option<(Timestamp, Timestamp, String)>,
}

impl<'a> Parser<'a> {
    fn new(q: &str, now: SystemTime, tz: &'a TimeZone, vocab: &'a Vocabulary) -> Self {
        let toks = tokenize(q);
        let folded = toks
            .iter()
            .map(|t| match t {
                Tok::Word(w) => fold(w),
                Tok::Quoted(_) => String::new(),
            })
            .collect();
        let ts = vigie_core::UnixMs::from(now).to_timestamp().unwrap_or(Timestamp::UNIX_EPOCH);
        Self {
            toks,
            folded,
            i: 0,
            now: ts.to_zoned(tz.clone()),
            tz,
            vocab,
            q: SearchQuery::default(),
            understood: Vec::new(),
            not_understood: Vec::new(),
            days: None,
            after: None,
            before: None,
            relative: None,
        }
    }

    fn word(&self, k: usize) -> Option<&str> {
        match self.toks.get(k) {
            Some(Tok::Word(_)) => Some(self.folded[k].as_str()),
            _ => None,
        }
    }

    /// Longest run of words starting at `k` equal (folded) to one of `names`.
    fn match_name(&self, k: usize, names: &[String]) -> Option<(String, usize)> {
        let mut best: Option<(String, usize)> = None;
        for n in names {
            let parts: Vec<String> = fold(n).split_whitespace().map(String::from).collect();
            if parts.is_empty() || k + parts.len() > self.toks.len() {
                continue;
            }
            if parts.iter().enumerate().all(|(j, p)| self.word(k + j) == Some(p.as_str()))
                && best.as_ref().is_none_or(|b| parts.len() > b.1)
            {
                best = Some((n.clone(), parts.len()));
            }
        }
        best
    }

    fn add_zone(&mut self, z: String) {
        if !self.q.zones.contains(&z) {
            self.understood.push(format!("zone: {z}"));
            self.q.zones.push(z);
        }
    }

    fn add_camera(&mut self, c: String) {
        if !self.q.cameras.contains(&c) {
            self.understood.push(format!("camera: {c}"));
            self.q.cameras.push(c);
        }
    }

    fn add_alias(&mut self, a: PlaceAlias) {
        for c in a.cameras {
            self.add_camera(c);
        }
        for z in a.zones {
            self.add_zone(z);
        }
    }

    /// A place at `k` (known zone/camera name or quoted phrase); returns tokens used.
    fn place(&mut self, k: usize, prefer_camera: bool) -> usize {
        match self.toks.get(k) {
            Some(Tok::Quoted(s)) => {
                let s = s.clone();
                let known = self.vocab.cameras.iter().chain(&self.vocab.zones).any(|n| fold(n) == fold(&s));
                if let Some(a) = self.vocab.aliases.iter().find(|a| fold(&a.words) == fold(&s)).filter(|_| !known) {
                    self.add_alias(a.clone());
                    return 1;
                }
                let is_cam = self.vocab.cameras.iter().any(|c| fold(c) == fold(&s));
                let is_zone = self.vocab.zones.iter().any(|z| fold(z) == fold(&s));
                let canon = |list: &[String]| list.iter().find(|x| fold(x) == fold(&s)).cloned().unwrap_or(s.clone());
                if is_cam && (prefer_camera || !is_zone) {
                    self.add_camera(canon(&self.vocab.cameras));
                } else if prefer_camera {
                    self.add_camera(s);
                } else {
                    self.add_zone(canon(&self.vocab.zones));
                }
                1
            }
            Some(Tok::Word(_)) => {
                let cams = self.match_name(k, &self.vocab.cameras);
                let zones = self.match_name(k, &self.vocab.zones);
                let named = cams.as_ref().map_or(0, |c| c.1).max(zones.as_ref().map_or(0, |z| z.1));
                let words: Vec<String> = self.vocab.aliases.iter().map(|a| a.words.clone()).collect();
                if let Some((w, n)) = self.match_name(k, &words).filter(|(_, n)| *n > named) {
                    if let Some(a) = self.vocab.aliases.iter().find(|a| a.words == w).cloned() {
                        self.add_alias(a);
                        return n;
                    }
                }
                match (cams, zones) {
                    (Some((c, n)), Some((_, m))) if prefer_camera || n > m => {
                        self.add_camera(c);
                        n
                    }
                    (_, Some((z, m))) => {
                        self.add_zone(z);
                        m
                    }
                    (Some((c, n)), None) => {
                        self.add_camera(c);
                        n
                    }
                    (None, None) => 0,
                }
            }
            None => 0,
        }
    }

    fn set_days(&mut self, from: Date, to: Date, label: String) {
        self.days = Some((from, to, label));
    }

    /// A day expression at `k`: today, yesterday, weekday, ISO or French date, "28 novembre".
    fn day_at(&self, k: usize) -> Option<(Date, usize, String)> {
        let today = self.now.date();
        let w = self.word(k)?;
        let one = |d: Date| Some((d, 1, d.to_string()));
        match w {
            "today" | "aujourd'hui" | "aujourdhui" => return Some((today, 1, "today".into())),
            "yesterday" | "hier" => return Some((today.yesterday().ok()?, 1, "yesterday".into())),
            "avant-hier" => return one(today.yesterday().ok()?.yesterday().ok()?),
            _ => {}
        }
        if let Some(wd) = weekday(w) {
            let back = (today.weekday().to_monday_zero_offset() - wd.to_monday_zero_offset()).rem_euclid(7);
            let d = today.checked_sub(jiff::Span::new().days(back as i64)).ok()?;
            return Some((d, 1, format!("{} {d}", w)));
        }
        if let Ok(d) = w.parse::<Date>() {
            return one(d);
        }
        let parts: Vec<&str> = w.split('/').collect();
        if (2..=3).contains(&parts.len())
            && parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        {
            let d: i8 = parts[0].parse().ok()?;
            let m: i8 = parts[1].parse().ok()?;
            let y: i16 = match parts.get(2) {
                Some(y) if y.len() == 2 => 2000 + y.parse::<i16>().ok()?,
                Some(y) => y.parse().ok()?,
                None => today.year(),
            };
            return Date::new(y, m, d).ok().and_then(one);
        }
        // "28 novembre [2026]" / "november 28"
        if let Ok(d) = w.parse::<i8>() {
            if let Some(m) = self.word(k + 1).and_then(month_name) {
                let (y, used) = match self.word(k + 2).and_then(|y| y.parse::<i16>().ok()).filter(|y| *y > 1900) {
                    Some(y) => (y, 3),
                    None => (today.year(), 2),
                };
                let date = Date::new(y, m, d).ok()?;
                return Some((date, used, date.to_string()));
            }
        }
        if let Some(m) = month_name(w) {
            if let Some(d) = self.word(k + 1).and_then(|d| d.parse::<i8>().ok()) {
                let date = Date::new(today.year(), m, d).ok()?;
                return Some((date, 2, date.to_string()));
            }
        }
        None
    }

    /// A clock time at `k` ("14:00", "14h30", "2pm", "2 pm"); returns tokens used.
    fn time_at(&self, k: usize) -> Option<(Time, usize)> {
        let w = self.word(k)?;
        if let Some(next) = self.word(k + 1) {
            if (next == "pm" || next == "am") && w.bytes().all(|b| b.is_ascii_digit()) {
                return parse_clock(&format!("{w}{next}")).map(|t| (t, 2));
            }
        }
        parse_clock(w).map(|t| (t, 1))
    }

    /// "N unit" or "Nunit" at `k`, in seconds.
    fn duration_at(&self, k: usize) -> Option<(i64, usize)> {
        let w = self.word(k)?;
        if let Some(s) = duration_token(w) {
            return Some((s, 1));
        }
        let n: f64 = w.parse().ok()?;
        let u = unit_seconds(self.word(k + 1)?)?;
        Some(((n * u as f64) as i64, 2))
    }

    fn relative_last(&mut self, secs: i64, label: String) {
        let to = self.now.timestamp();
        // "last 99999999999999999999h" reaches past the calendar: it means everything before now
        // (jiff's `-` would panic).
        let from = to.checked_sub(jiff::SignedDuration::from_secs(secs)).unwrap_or(Timestamp::MIN);
        self.relative = Some((from, to, label));
    }

    fn run(mut self) -> ParsedQuery {
        while self.i < self.toks.len() {
            let used = self.step();
            if used == 0 {
                let t = match &self.toks[self.i] {
                    Tok::Word(w) | Tok::Quoted(w) => w.clone(),
                };
                if !STOPWORDS.contains(&self.folded[self.i].as_str()) {
                    self.not_understood.push(t);
                }
                self.i += 1;
            } else {
                self.i += used;
            }
        }
        self.resolve_time();
        ParsedQuery { query: self.q, understood: self.understood, not_understood: self.not_understood }
    }

    /// Tries every rule at the current token; returns tokens consumed (0 = none matched).
    fn step(&mut self) -> usize {
        let i = self.i;
        if let Some(Tok::Quoted(_)) = self.toks.get(i) {
            return self.place(i, false);
        }
        let w = self.folded[i].clone();
        // Known names first, so a zone called "north gate" is not read as a direction.
        let n = self.place(i, false);
        if n > 0 {
            return n;
        }
        match w.as_str() {
            "in" | "dans" | "zone" | "at" | "a" | "on" | "sur" | "near" | "pres" | "inside" => {
                if let Some((t, n)) = self.time_at(i + 1).filter(|_| matches!(w.as_str(), "at" | "a")) {
                    self.around(t, 15);
                    return 1 + n;
                }
                let mut k = i + 1;
                while matches!(self.word(k), Some("l'" | "la" | "le" | "les" | "the")) {
                    k += 1;
                }
                let n = self.place(k, false);
                if n > 0 {
                    return k - i + n;
                }
                return if w == "zone" { 0 } else { 1 };
            }
            "camera" | "cam" | "cameras" | "cams" => {
                let n = self.place(i + 1, true);
                return if n > 0 { 1 + n } else { 0 };
            }
            "between" | "entre" => {
                if let Some((a, n)) = self.time_at(i + 1) {
                    let k = i + 1 + n;
                    if matches!(self.word(k), Some("and" | "et" | "-" | "to" | "a")) {
                        if let Some((b, m)) = self.time_at(k + 1) {
                            self.after = Some(a);
                            self.before = Some(b);
                            return 2 + n + m;
                        }
                    }
                }
                if let Some((d1, n, _)) = self.day_at(i + 1) {
                    let k = i + 1 + n;
                    if matches!(self.word(k), Some("and" | "et" | "to" | "a")) {
                        if let Some((d2, m, _)) = self.day_at(k + 1) {
                            let (a, b) = if d1 <= d2 { (d1, d2) } else { (d2, d1) };
                            self.set_days(a, b, format!("{a} to {b}"));
                            return 2 + n + m;
                        }
                    }
                }
                return 0;
            }
            "after" | "apres" | "since" | "depuis" | "from" | "des" => {
                if let Some((t, n)) = self.time_at(i + 1) {
                    self.after = Some(t);
                    return 1 + n;
                }
                if let Some((d, n, label)) = self.day_at(i + 1) {
                    let today = self.now.date();
                    self.set_days(d, today.max(d), format!("since {label}"));
                    return 1 + n;
                }
                return 0;
            }
            "before" | "avant" | "until" | "till" | "jusqu'a" | "jusqu'au" => {
                if let Some((t, n)) = self.time_at(i + 1) {
                    self.before = Some(t);
                    return 1 + n;
                }
                return 0;
            }
            "around" | "vers" | "about" | "environ" => {
                if let Some((t, n)) = self.time_at(i + 1) {
                    self.around(t, 30);
                    return 1 + n;
                }
                if let Some(d) = self.word(i + 1).and_then(direction_word) {
                    self.set_direction(d);
                    return 2;
                }
                if matches!(self.word(i + 1), Some("l'" | "le" | "la")) {
                    if let Some(d) = self.word(i + 2).and_then(direction_word) {
                        self.set_direction(d);
                        return 3;
                    }
                }
                return 0;
            }
            "last" | "past" | "dernier" | "derniers" | "derniere" | "dernieres" => {
                // "last week", "last 2 hours", "dernières 24 heures"
                if let Some(u) = self.word(i + 1).and_then(unit_seconds) {
                    let label = format!("last {}", self.word(i + 1).unwrap_or_default());
                    self.relative_last(u, label);
                    return 2;
                }
                if let Some((s, n)) = self.duration_at(i + 1) {
                    self.relative_last(s, format!("last {s} s"));
                    return 1 + n;
                }
                return 0;
            }
            "this" | "cette" | "ce" => {
                if matches!(self.word(i + 1), Some("week" | "semaine")) {
                    let today = self.now.date();
                    let monday = today
                        .checked_sub(jiff::Span::new().days(today.weekday().to_monday_zero_offset() as i64))
                        .unwrap_or(today);
                    self.set_days(monday, today, "this week".into());
                    return 2;
                }
                if matches!(self.word(i + 1), Some("morning" | "matin")) {
                    self.set_days(self.now.date(), self.now.date(), "this morning".into());
                    self.after = Some(Time::midnight());
                    self.before = Some(Time::constant(12, 0, 0, 0));
                    return 2;
                }
                return 0;
            }
            "more" | "plus" | "longer" | "over" | ">" | ">=" | "least" | "moins" => {
                let mut k = i + 1;
                if matches!(self.word(k), Some("than" | "de" | "que")) {
                    k += 1;
                }
                if let Some((s, n)) = self.duration_at(k) {
                    self.set_dwell(s as f64);
                    return k - i + n;
                }
                return 0;
            }
            "loitering" | "loiter" | "lingering" | "stationnant" | "rodant" | "flanant" => {
                if self.q.min_dwell_s.is_none() {
                    self.set_dwell(60.0);
                }
                return 1;
            }
            "without" | "sans" | "no" => {
                if matches!(self.word(i + 1), Some(a) if is_event_word(a)) {
                    self.q.event_linked = Some(false);
                    self.understood.push("not linked to an event".into());
                    return 2;
                }
                return 0;
            }
            _ => {}
        }
        // French: "les 2 dernières heures", "la semaine dernière"
        if let Ok(n) = w.parse::<f64>() {
            if matches!(self.word(i + 1), Some("derniers" | "dernieres" | "last")) {
                if let Some(u) = self.word(i + 2).and_then(unit_seconds) {
                    self.relative_last(
                        (n * u as f64) as i64,
                        format!("last {n} {}", self.word(i + 2).unwrap_or_default()),
                    );
                    return 3;
                }
            }
        }
        if let Some(u) = unit_seconds(&w).filter(|u| *u >= 3600) {
            if matches!(self.word(i + 1), Some("derniere" | "dernier" | "passee" | "passe")) {
                self.relative_last(u, format!("last {w}"));
                return 2;
            }
        }
        if let Some((d, n, label)) = self.day_at(i) {
            self.set_days(d, d, label);
            return n;
        }
        if let Some((t, n)) = self.time_at(i) {
            self.around(t, 30);
            return n;
        }
        if let Some(c) = NamedColor::parse(&w) {
            if !self.q.colors.contains(&c) {
                self.q.colors.push(c);
                self.understood.push(format!("colour: {c}"));
            }
            return 1;
        }
        if let Some(classes) = class_word(&w) {
            for c in classes {
                if !self.q.classes.iter().any(|x| x == c) {
                    self.q.classes.push(c.to_string());
                    self.understood.push(format!("class: {c}"));
                }
            }
            return 1;
        }
        if is_event_word(&w) {
            self.q.event_linked = Some(true);
            self.understood.push("linked to an event".into());
            return 1;
        }
        // A bare "est" is French for "is"; compass words count only when unambiguous.
        if w != "est" && w.len() > 2 {
            if let Some(d) = direction_word(&w) {
                self.set_direction(d);
                return 1;
            }
        }
        if let Some(d) =
            self.word(i).filter(|w| w.len() <= 2 && w.chars().all(|c| c.is_ascii_alphabetic())).and_then(|_| {
                // Upper-case compass abbreviations as typed: "N", "SW".
                match &self.toks[i] {
                    Tok::Word(orig) if orig.chars().all(|c| c.is_ascii_uppercase()) => Direction::parse(orig),
                    _ => None,
                }
            })
        {
            self.set_direction(d);
            return 1;
        }
        0
    }

    fn set_direction(&mut self, d: Direction) {
        self.q.direction = Some(d);
        self.understood.push(format!("direction: {d}"));
    }

    fn set_dwell(&mut self, s: f64) {
        self.q.min_dwell_s = Some(s);
        self.understood.push(format!("stayed at least {s} s"));
    }

    fn around(&mut self, t: Time, minutes: i64) {
        let span = jiff::Span::new().minutes(minutes);
        self.after = Some(t.checked_sub(span).unwrap_or(Time::midnight()).max(Time::midnight()));
        let b = t.checked_add(span).unwrap_or(Time::MAX);
        self.before = Some(if b < t { Time::MAX } else { b });
    }

    fn resolve_time(&mut self) {
        let fmt = |z: &Zoned| z.strftime("%Y-%m-%d %H:%M").to_string();
        if let Some((from, to, label)) = self.relative.take() {
            self.q.from_ms = Some(from.into());
            self.q.to_ms = Some(to.into());
            let (f, t) = (from.to_zoned(self.tz.clone()), to.to_zoned(self.tz.clone()));
            self.understood.push(format!("time: {label} ({} to {})", fmt(&f), fmt(&t)));
            return;
        }
        if self.days.is_none() && self.after.is_none() && self.before.is_none() {
            return;
        }
        let today = self.now.date();
        let (d1, d2, label) = self.days.clone().unwrap_or((today, today, "today".into()));
        let start = d1.to_datetime(self.after.unwrap_or(Time::midnight()));
        let end = match self.before {
            Some(t) if t != Time::MAX => d2.to_datetime(t),
            _ => d2.tomorrow().unwrap_or(d2).to_datetime(Time::midnight()),
        };
        let (Ok(f), Ok(t)) = (start.to_zoned(self.tz.clone()), end.to_zoned(self.tz.clone())) else { return };
        self.q.from_ms = Some(f.timestamp().into());
        self.q.to_ms = Some(t.timestamp().into());
        self.understood.push(format!("time: {label} ({} to {})", fmt(&f), fmt(&t)));
    }
}

fn is_event_word(w: &str) -> bool {
    matches!(
        w,
        "alert"
            | "alerts"
            | "alerte"
            | "alertes"
            | "event"
            | "events"
            | "evenement"
            | "evenements"
            | "incident"
            | "incidents"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary {
            cameras: vec!["cam-1".into(), "Parvis Gare".into()],
            zones: vec!["rue piétonne".into(), "entrée".into(), "north gate".into()],
            aliases: Vec::new(),
        }
    }

    fn at(s: &str) -> SystemTime {
        vigie_core::UnixMs::parse_rfc3339("t", s).unwrap().into()
    }

    fn paris() -> TimeZone {
        TimeZone::get("Europe/Paris").unwrap()
    }

    fn ms(s: &str) -> vigie_core::UnixMs {
        s.parse::<Timestamp>().unwrap().into()
    }

    #[test]
    fn the_issue_example() {
        // Saturday 2026-11-28, 10:00 in Paris.
        let p = parse_text_query(
            r#"red car in "rue piétonne" after 14:00 yesterday"#,
            at("2026-11-28T09:00:00Z"),
            &paris(),
            &vocab(),
        );
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.colors, vec![NamedColor::Red]);
        assert_eq!(p.query.classes, vec!["car".to_string()]);
        assert_eq!(p.query.zones, vec!["rue piétonne".to_string()]);
        assert_eq!(p.query.from_ms, Some(ms("2026-11-27T13:00:00Z")), "14:00 Paris = 13:00 UTC");
        assert_eq!(p.query.to_ms, Some(ms("2026-11-27T23:00:00Z")), "end of yesterday, Paris");
        assert!(p.understood.iter().any(|u| u.starts_with("time: yesterday")), "{:?}", p.understood);
    }

    /// Found by `vigie bench fuzz`: a relative window past the calendar's start panicked in
    /// jiff's subtraction (a 500 from the search API).
    #[test]
    fn a_relative_window_past_the_calendar_means_everything_until_now() {
        let now = at("2026-11-28T09:00:00Z");
        for q in ["last 99999999999999999999h", "last 1e300 days", "les dernières 99999999999999 semaines"] {
            let p = parse_text_query(q, now, &paris(), &vocab());
            assert_eq!(p.query.to_ms.is_some(), p.query.from_ms.is_some(), "{q}: {:?}", p.query);
        }
        let p = parse_text_query("last 99999999999999999999h", now, &paris(), &vocab());
        assert_eq!(p.query.to_ms, Some(ms("2026-11-28T09:00:00Z")));
        assert!(p.query.from_ms.unwrap() < ms("0001-01-01T00:00:00Z"), "{:?}", p.query);
    }

    #[test]
    fn french_phrases_and_unquoted_names() {
        let now = at("2026-11-28T09:00:00Z");
        let p = parse_text_query("camion blanc dans la rue piétonne hier entre 14h et 15h30", now, &paris(), &vocab());
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.classes, vec!["truck".to_string()]);
        assert_eq!(p.query.colors, vec![NamedColor::White]);
        assert_eq!(p.query.zones, vec!["rue piétonne".to_string()]);
        assert_eq!(p.query.from_ms, Some(ms("2026-11-27T13:00:00Z")));
        assert_eq!(p.query.to_ms, Some(ms("2026-11-27T14:30:00Z")));

        let p = parse_text_query("personnes à l'entrée caméra \"parvis gare\" lundi", now, &TimeZone::UTC, &vocab());
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.classes, vec!["person".to_string()]);
        assert_eq!(p.query.zones, vec!["entrée".to_string()]);
        assert_eq!(p.query.cameras, vec!["Parvis Gare".to_string()]);
        assert_eq!(p.query.from_ms, Some(ms("2026-11-23T00:00:00Z")), "last Monday");
        assert_eq!(p.query.to_ms, Some(ms("2026-11-24T00:00:00Z")));
    }

    #[test]
    fn dates_durations_directions_and_events() {
        let now = at("2026-11-28T09:00:00Z");
        let utc = TimeZone::UTC;
        let p = parse_text_query("blue bus northbound on 2026-11-20 before 08:30 with alert", now, &utc, &vocab());
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.direction, Some(Direction::N));
        assert_eq!(p.query.event_linked, Some(true));
        assert_eq!(
            (p.query.from_ms, p.query.to_ms),
            (Some(ms("2026-11-20T00:00:00Z")), Some(ms("2026-11-20T08:30:00Z")))
        );

        let p = parse_text_query("person in north gate for more than 5 min last week", now, &utc, &vocab());
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.zones, vec!["north gate".to_string()], "a zone name wins over the compass");
        assert_eq!(p.query.direction, None);
        assert_eq!(p.query.min_dwell_s, Some(300.0));
        assert_eq!(
            (p.query.from_ms, p.query.to_ms),
            (Some(ms("2026-11-21T09:00:00Z")), Some(ms("2026-11-28T09:00:00Z")))
        );

        let p = parse_text_query("voitures rouges 27/11 vers 2pm", now, &utc, &vocab());
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(
            (p.query.from_ms, p.query.to_ms),
            (Some(ms("2026-11-27T13:30:00Z")), Some(ms("2026-11-27T14:30:00Z")))
        );

        let p = parse_text_query("les 2 dernières heures véhicule vers l'ouest", now, &utc, &vocab());
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.classes.len(), 4);
        assert_eq!(p.query.direction, Some(Direction::W));
        assert_eq!(p.query.from_ms, Some(ms("2026-11-28T07:00:00Z")));
    }

    #[test]
    fn unknown_words_are_reported_as_typed() {
        let p = parse_text_query(
            "red banana after 14:00 with Flurbs",
            at("2026-11-28T09:00:00Z"),
            &TimeZone::UTC,
            &vocab(),
        );
        assert_eq!(p.not_understood, vec!["banana".to_string(), "Flurbs".to_string()]);
        assert_eq!(p.query.colors, vec![NamedColor::Red]);
        assert!(p.understood.iter().any(|u| u.starts_with("time:")));
        // A quoted unknown name is taken as a zone (search then says it does not exist).
        let p = parse_text_query("in \"Place Inconnue\"", at("2026-11-28T09:00:00Z"), &TimeZone::UTC, &vocab());
        assert_eq!(p.query.zones, vec!["Place Inconnue".to_string()]);
        assert_eq!(p.query.from_ms, None, "no time phrase, no time filter");
    }

    #[test]
    fn everyday_place_words_are_understood_and_a_real_name_wins() {
        let v = Vocabulary {
            cameras: vec!["plaza".into()],
            zones: vec!["lamp".into(), "place".into()],
            aliases: vec![
                PlaceAlias { words: "square".into(), cameras: vec![], zones: vec!["lamp".into()] },
                PlaceAlias { words: "place".into(), cameras: vec![], zones: vec!["lamp".into()] },
                PlaceAlias { words: "place de la gare".into(), cameras: vec!["plaza".into()], zones: vec![] },
            ],
        };
        let now = at("2026-11-28T09:00:00Z");
        let p = parse_text_query("red car in the square after 18:00", now, &paris(), &v);
        assert!(p.not_understood.is_empty(), "{:?}", p.not_understood);
        assert_eq!(p.query.zones, vec!["lamp".to_string()]);
        assert_eq!(p.query.from_ms, Some(ms("2026-11-28T17:00:00Z")), "18:00 today in Paris");
        assert_eq!(p.query.to_ms, Some(ms("2026-11-28T23:00:00Z")));
        let p = parse_text_query("bus sur la Place de la Gare", now, &paris(), &v);
        assert_eq!(
            (p.query.cameras.clone(), p.query.zones.clone()),
            (vec!["plaza".to_string()], vec![]),
            "longest match"
        );
        let p = parse_text_query("bus in place", now, &paris(), &v);
        assert_eq!(p.query.zones, vec!["place".to_string()], "a zone really named so wins over the alias");
        let p = parse_text_query("bus in \"Square\"", now, &paris(), &v);
        assert_eq!(p.query.zones, vec!["lamp".to_string()]);
    }

    #[test]
    fn clock_formats() {
        assert_eq!(parse_clock("14:00"), Time::new(14, 0, 0, 0).ok());
        assert_eq!(parse_clock("14h"), Time::new(14, 0, 0, 0).ok());
        assert_eq!(parse_clock("9h45"), Time::new(9, 45, 0, 0).ok());
        assert_eq!(parse_clock("2pm"), Time::new(14, 0, 0, 0).ok());
        assert_eq!(parse_clock("12am"), Time::new(0, 0, 0, 0).ok());
        assert_eq!(parse_clock("25:00"), None);
        assert_eq!(parse_clock("hello"), None);
        assert_eq!(parse_clock("3.5"), None);
    }
}
