//! Which language a message is written in, when its words say so clearly: English or Spanish.
//!
//! Counts function words and words that only one of the two languages uses, on the
//! normalized text (lower case, accents gone). Deliberately cautious: a short or mixed
//! message ("ok", "klonopin 2mg", "hola thanks") tells nothing, and Portuguese, whose small
//! words look Spanish, is never taken for it. A wrong guess only changes the language of one
//! reply (the person gets a one-tap switch back), but guessing often would be noise.

/// Words that mark Spanish (as normalized: no accents). Not "no", "me", "a", "son" or "solo",
/// which English writes too, nor words Portuguese shares.
const SPANISH: &[&str] = &[
    "el",
    "la",
    "los",
    "las",
    "y",
    "que",
    "del",
    "al",
    "es",
    "esta",
    "estoy",
    "estamos",
    "vivo",
    "vivimos",
    "llamo",
    "estan",
    "estas",
    "por",
    "para",
    "con",
    "sin",
    "una",
    "unos",
    "unas",
    "mi",
    "mis",
    "tu",
    "su",
    "sus",
    "se",
    "lo",
    "le",
    "les",
    "yo",
    "usted",
    "tengo",
    "tiene",
    "tienen",
    "puedo",
    "puede",
    "hay",
    "pero",
    "muy",
    "mucho",
    "mucha",
    "muchas",
    "muchos",
    "como",
    "cuanto",
    "cuanta",
    "cuantas",
    "cuantos",
    "cuando",
    "donde",
    "porque",
    "pastillas",
    "pastilla",
    "tome",
    "tomo",
    "tomar",
    "dejar",
    "deje",
    "hijo",
    "hija",
    "mama",
    "papa",
    "ayuda",
    "ayudame",
    "necesito",
    "quiero",
    "hola",
    "holi",
    "buenas",
    "buenos",
    "noches",
    "tardes",
    "adios",
    "gracias",
    "si",
    "bien",
    "dias",
    "dia",
    "noche",
    "dormir",
    "ansiedad",
    "medico",
    "dosis",
    "sobredosis",
    "abstinencia",
    "morir",
    "matarme",
    "suicidarme",
    "vida",
    "hacer",
    "esto",
    "eso",
    "ya",
    "tambien",
    "mas",
    "nada",
    "algo",
    "alguien",
    "puedes",
    "sabes",
    "ella",
    "ellos",
    "nosotros",
    "desde",
    "hace",
    "soy",
    "eres",
    "quien",
    "cual",
    "pasa",
    "siento",
    "despues",
    "antes",
    "ahora",
    "hoy",
    "ayer",
    "semana",
    "semanas",
    "mes",
    "meses",
    "efectos",
    "embarazada",
    "cerveza",
    "convulsiones",
    // What a person in crisis writes, often in two or three words ("quiero morirme", "me
    // quiero matar", "no quiero seguir", "nadie me va a extrañar").
    "morirme",
    "matar",
    "seguir",
    "vivir",
    "nadie",
    "extranar",
    "cansada",
    "cansado",
    "existir",
    "kiero",
    "desaparecer",
    "temblando",
    "pastis",
];

/// Crisis words English never writes, enough on their own in a message of one to three
/// words: someone who types only "sobredosis" reads the guidance in Spanish. (Portuguese
/// "abstinência" normalizes to the same word: such a message gets Spanish, the nearer of the
/// two languages, with a one-tap switch back.)
const SPANISH_ALONE: &[&str] = &["sobredosis", "abstinencia", "morirme", "matarme", "suicidarme"];

/// "I am", "I live" in Spanish: before "en" ("estoy en", "vivo en"), they mark Spanish.
const SPANISH_PLACED: &[&str] = &["estoy", "estamos", "vivo", "vivimos", "llamo"];

/// Spanish greetings and thanks, enough on their own in a short message.
const GREETINGS: &[&str] = &["hola", "gracias", "adios", "buenas", "buenos", "holi", "graciass"];

/// Words that mark English. Not "a", "no", "me", "ok" or drug names, which every language types.
const ENGLISH: &[&str] = &[
    "the", "is", "are", "was", "were", "i", "im", "my", "you", "your", "it", "its", "to", "of", "and", "what", "how", "can", "do", "does",
    "did", "with", "for", "this", "that", "have", "has", "took", "take", "much", "many", "pills", "should", "he", "she", "they", "if",
    "or", "on", "at", "be", "will", "not", "dont", "help", "about", "when", "after", "day", "days", "from", "too", "mg", "why", "who",
    "need", "want", "feel", "just", "am", "been", "hi", "hello", "thanks", "thank", "yes", "there", "off", "stop", "stopped", "long",
    "safe", "any", "his", "her",
];

/// Words that mark Portuguese, French or Italian, whose small words would otherwise read as
/// Spanish ("se", "si", "para", "la"). Drug names count for no language.
const OTHER_ROMANCE: &[&str] = &[
    // Portuguese
    "nao",
    "eu",
    "meu",
    "minha",
    "voce",
    "tomei",
    "muito",
    "muita",
    "estou",
    "tenho",
    "posso",
    "com",
    "uma",
    "remedio",
    "ajuda",
    "obrigado",
    "obrigada",
    "filho",
    "filha",
    "mae",
    "comprimidos",
    "isso",
    "ele",
    "dela",
    "dele",
    "fazer",
    "e",
    "ontem",
    "esqueci",
    "idosos",
    "tambem",
    "quero",
    "morrer",
    "mais",
    // French
    "je",
    "j",
    "mon",
    "ma",
    "il",
    "elle",
    "pas",
    "ne",
    "avec",
    "pour",
    "et",
    "est",
    "suis",
    "une",
    "des",
    "du",
    "au",
    "qui",
    "quoi",
    "veux",
    "pris",
    "plus",
    "moi",
    "toute",
    "boite",
    "fac",
    "cours",
    // Italian
    "non",
    "sono",
    "mio",
    "della",
    "che",
    "gli",
    "di",
    "per",
    "ho",
    "cosa",
    "nessuno",
];

/// A language the words of `normalized` show clearly (`"es"` or `"en"`), else `None`.
/// `raw` is the text as typed, for the marks normalization removes ("¿", "¡", "ñ").
pub fn written_in(raw: &str, normalized: &str) -> Option<&'static str> {
    let words = || normalized.split_whitespace();
    let count = |list: &[&str]| words().filter(|w| list.contains(w)).count();
    let marks = raw.chars().filter(|c| matches!(c, '¿' | '¡' | 'ñ' | 'Ñ')).count();
    // "en" is French too, but after "estoy" or "vivo" it is Spanish: "estoy en mexico" says
    // which language as surely as two words do.
    let placed = words().zip(words().skip(1)).filter(|(a, b)| *b == "en" && SPANISH_PLACED.contains(a)).count();
    let (es, en, other) = (count(SPANISH) + marks + placed, count(ENGLISH), count(OTHER_ROMANCE));
    if other > 0 && other * 2 >= es {
        return None;
    }
    // "hola", "muchas gracias", "buenas noches": a greeting or thanks alone says it too.
    let greets = words().any(|w| GREETINGS.contains(&w) || SPANISH_ALONE.contains(&w));
    if (es >= 2 || (greets && words().count() <= 3)) && es > 2 * en {
        Some("es")
    } else if en >= 2 && en > 2 * es {
        Some("en")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::normalize::normalize;

    #[test]
    fn clear_messages_are_read_in_their_language_and_the_rest_left_alone() {
        let cases: &[(&str, Option<&str>)] = &[
            ("¿Qué es el clonazepam?", Some("es")),
            ("que es el rivotril", Some("es")),
            ("tome muchas pastillas de clonazepam", Some("es")),
            ("mi hijo se tomo 5 pastillas", Some("es")),
            ("deje las clonas hace 3 dias y no puedo dormir", Some("es")),
            ("ya no quiero vivir", Some("es")),
            ("gracias por la ayuda", Some("es")),
            ("what is klonopin", Some("en")),
            ("i took too many pills", Some("en")),
            ("how long does withdrawal last", Some("en")),
            ("can i drink on it", Some("en")),
            // Too short or mixed: the chat's language stays.
            ("ok", None),
            ("klonopin 2mg", None),
            ("hola", Some("es")),
            ("muchas gracias", Some("es")),
            ("buenas noches", Some("es")),
            ("thanks", None),
            ("hola thanks", None),
            ("hola, can you help me with my klonopin question", Some("en")),
            ("sobredosis", Some("es")),
            ("abstinencia", Some("es")),
            ("quiero morirme", Some("es")),
            ("me quiero matar", Some("es")),
            ("no quiero seguir", Some("es")),
            ("kiero suicidarme", Some("es")),
            ("nadie me va a extrañar", Some("es")),
            ("sobredosis rivotril", Some("es")),
            ("estoy en mexico", Some("es")),
            ("vivo en bogota", Some("es")),
            ("estamos en chile", Some("es")),
            ("eu vivo em portugal", None),
            ("my brother overdosed, sobredosis", None),
            // Portuguese, French and Italian are not Spanish.
            ("eu tomei muitos comprimidos de rivotril", None),
            ("minha mae toma clonazepam", None),
            ("esqueci de tomar o clonazepam ontem a noite", None),
            ("mon copain a pris plein de rivotril avec de l alcool et il ne se reveille pas", None),
            ("nessuno si accorgerebbe se sparissi", None),
            ("clonazepam e seguro para idosos?", None),
        ];
        for (text, want) in cases {
            assert_eq!(written_in(text, &normalize(text)), *want, "{text}");
        }
    }
}
