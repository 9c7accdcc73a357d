//! Text normalization shared by every matcher: one canonical form for what people type.
//!
//! The output is lower-case ASCII-ish words separated by single spaces. Crisis detection and
//! topic matching both run on it, so a trick that defeats one (a Cyrillic "о", a zero-width
//! space, "0verdose", "O.D.") is folded here once for both.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Normalizes `input` into space-separated lower-case tokens.
///
/// Steps, in order: compatibility decomposition (NFKD: full-width and other compatibility
/// forms become plain letters) with the combining marks dropped (accents stripped), removal of
/// invisible format characters, lower-casing, homoglyph folding (Cyrillic and Greek letters that
/// look Latin), dotted and slashed abbreviations joined ("o.d." and "w/d" become "od" and "wd"),
/// digits used as letters inside words ("0verdose"), letter runs of three or more shortened to
/// two ("helppp"), and everything else that is not a letter or digit turned into a separator.
pub fn normalize(input: &str) -> String {
    let split;
    let input = if input.contains("OD") {
        split = split_od_suffix(input);
        split.as_str()
    } else {
        input
    };
    let mut folded = String::with_capacity(input.len());
    if input.is_ascii() {
        folded.extend(input.chars().map(|c| c.to_ascii_lowercase()));
    } else {
        for c in input.nfkd() {
            if is_combining_mark(c) || is_invisible(c) {
                continue;
            }
            for lower in c.to_lowercase() {
                folded.push(fold_homoglyph(lower));
            }
        }
    }
    let words = split_words(&folded);
    let mut out = String::with_capacity(folded.len());
    for word in words {
        let word = join_abbreviation(&word).unwrap_or(word);
        let word = unleet(&word);
        let word = squeeze_runs(&word);
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// "ODd", "ODed", "ODing", "ODs": the capitals mark the abbreviation, which lower-casing
/// would lose ("ODd" would become the word "odd"), so the suffix is split off first.
fn split_od_suffix(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(input.len() + 4);
    let mut last = 0;
    for (i, _) in input.match_indices("OD") {
        let starts_word = i == 0 || !bytes[i - 1].is_ascii_alphabetic();
        let rest = &input[i + 2..];
        let suffix_len = rest.bytes().take_while(u8::is_ascii_lowercase).count();
        if starts_word && matches!(&rest[..suffix_len], "d" | "ed" | "ing" | "s" | "in") {
            out.push_str(&input[last..i + 2]);
            out.push(' ');
            last = i + 2;
        }
    }
    out.push_str(&input[last..]);
    out
}

/// Zero-width, direction and other format characters that change nothing a reader sees.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{E0000}'..='\u{E007F}')
}

/// Folds Cyrillic and Greek lower-case letters that render like Latin ones.
fn fold_homoglyph(c: char) -> char {
    match c {
        'а' => 'a',
        'в' => 'b',
        'е' | 'ё' => 'e',
        'з' => '3',
        'і' | 'ї' => 'i',
        'ј' => 'j',
        'к' => 'k',
        'м' => 'm',
        'н' => 'h',
        'о' => 'o',
        'р' => 'p',
        'с' => 'c',
        'т' => 't',
        'у' => 'y',
        'х' => 'x',
        'ѕ' => 's',
        'ԁ' => 'd',
        'ɡ' => 'g',
        'һ' => 'h',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'ʏ' => 'y',
        'α' => 'a',
        'β' => 'b',
        'ε' => 'e',
        'η' => 'n',
        'ι' => 'i',
        'κ' => 'k',
        'ν' => 'v',
        'ο' => 'o',
        'ρ' => 'p',
        'τ' => 't',
        'υ' => 'u',
        'χ' => 'x',
        'ω' => 'w',
        'ς' | 'σ' => 's',
        'ß' => 's',
        other => other,
    }
}

/// Splits folded text into raw words, keeping the punctuation that abbreviations need
/// (`.` and `/` between letters, apostrophes inside words) for [`join_abbreviation`].
fn split_words(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = if i > 0 { chars[i - 1] } else { ' ' };
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        let keeps_word = c.is_alphanumeric() || c == '@' || c == '$';
        let joins = matches!(c, '.' | '/') && prev.is_alphanumeric() && next.is_alphanumeric();
        if keeps_word || joins {
            current.push(c);
        } else if matches!(c, '\'' | '’' | '`') && prev.is_alphanumeric() && next.is_alphanumeric() {
            // "OD'd" and "OD'ing" mean overdosed: keep "od" a word of its own. Elsewhere an
            // apostrophe joins ("won't" -> "wont") so contractions stay one token.
            if current == "od" || current == "0d" {
                words.push(std::mem::take(&mut current));
            }
        } else if !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.into_iter().flat_map(split_inner_punctuation).collect()
}

/// A word still holding `.` or `/` is either an abbreviation of single letters ("o.d", "w/d"),
/// kept whole for [`join_abbreviation`], or words run together ("and/or", "klonopin.what"),
/// split apart.
fn split_inner_punctuation(word: String) -> Vec<String> {
    if !word.contains(['.', '/']) {
        return vec![word];
    }
    let parts: Vec<&str> = word.split(['.', '/']).collect();
    let last = parts.len() - 1;
    let single = |(i, p): (usize, &&str)| p.chars().count() == 1 || (i == last && p.chars().count() == 2 && p.ends_with('s'));
    if parts.iter().enumerate().all(single) {
        return vec![word];
    }
    parts.into_iter().filter(|p| !p.is_empty()).map(str::to_owned).collect()
}

/// Joins single letters separated by dots or slashes: "o.d" -> "od", "w/d" -> "wd".
fn join_abbreviation(word: &str) -> Option<String> {
    if !word.contains(['.', '/']) {
        return None;
    }
    Some(word.chars().filter(|c| !matches!(c, '.' | '/')).collect())
}

/// Reads digits and symbols used as letters, but only inside a word that has letters:
/// "0verdose" -> "overdose", while "30" stays a number.
fn unleet(word: &str) -> String {
    let has_letter = word.chars().any(char::is_alphabetic);
    let has_leet = word.chars().any(|c| matches!(c, '0' | '1' | '3' | '4' | '5' | '7' | '@' | '$'));
    if !has_letter || !has_leet || looks_like_quantity(word) {
        return word.chars().filter(|c| *c != '@' && *c != '$').collect();
    }
    word.chars()
        .map(|c| match c {
            '0' => 'o',
            '1' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect()
}

/// "2mg", "10pills", "3rd": a number followed by a short unit, not leetspeak ("0verdose").
fn looks_like_quantity(word: &str) -> bool {
    let digits = word.chars().take_while(|c| c.is_ascii_digit()).count();
    let unit = &word[digits..];
    digits > 0 && !word.starts_with('0') && unit.len() <= 5 && unit.chars().all(char::is_alphabetic)
}

/// Shortens runs of three or more identical characters to two ("helppp" -> "helpp"),
/// which keeps real double letters and brings stretched words within typo distance.
fn squeeze_runs(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut last = None;
    let mut run = 0;
    for c in word.chars() {
        if Some(c) == last {
            run += 1;
        } else {
            last = Some(c);
            run = 1;
        }
        if run <= 2 {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn folds_what_people_type() {
        let cases = [
            ("Klonopin WITHDRAWAL?!", "klonopin withdrawal"),
            ("0verdose", "overdose"),
            ("w1thdrawal", "withdrawal"),
            ("I think he O.D.'d", "i think he od d"),
            ("OD'ing on pins", "od ing on pins"),
            ("he ODd", "he od d"),
            ("he 0D'd", "he od d"),
            ("ODing again", "od ing again"),
            ("ODESSA", "odessa"),
            ("0.D.", "od"),
            ("are w/ds bad", "are wds bad"),
            ("w/d from k-pins", "wd from k pins"),
            ("and/or", "and or"),
            ("won't wake up", "wont wake up"),
            ("о\u{200B}verdose", "overdose"), // Cyrillic o and a zero-width space
            ("ΟVERDOSE", "overdose"),         // Greek capital omicron
            ("sobredósis", "sobredosis"),
            ("abstinéncia", "abstinencia"),
            ("helppp meee", "helpp mee"),
            ("took 30 pills", "took 30 pills"),
            ("2mg tablets", "2mg tablets"),
            ("ｋｌｏｎｏｐｉｎ", "klonopin"), // full-width letters (compatibility decomposition)
            ("Klonopin.What is it", "klonopin what is it"),
            ("   ", ""),
            ("😢 withdrawl", "withdrawl"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), expected, "input: {input:?}");
        }
    }

    #[test]
    fn long_and_odd_input_is_safe() {
        let long = "withdrawal ".repeat(400);
        assert_eq!(normalize(&long).split(' ').count(), 400);
        let odd = "\u{0000}\u{FFFF}\u{10FFFF}🙂\u{202E}abc";
        assert_eq!(normalize(odd), "abc");
    }
}
