//! Engine messages as Telegram messages: split to fit 4,096 characters, keyboards. Pure.

use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup};

use crate::content::{Rich, TELEGRAM_MAX_TEXT};
use crate::engine::Message;

/// One Telegram message to send: HTML text, the same as plain text (the fallback if
/// Telegram rejects the HTML), and the keyboard (only on the last part of a split message).
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    pub html: String,
    pub plain: String,
    pub keyboard: Option<InlineKeyboardMarkup>,
}

/// Splits an engine message into parts of at most 4,096 characters (as Telegram counts
/// them), at paragraph boundaries, the keyboard on the last part.
pub fn parts(message: &Message) -> Vec<Part> {
    let mut parts: Vec<Part> =
        split(&message.text, TELEGRAM_MAX_TEXT).into_iter().map(|r| Part { html: r.html, plain: r.plain, keyboard: None }).collect();
    if !message.buttons.is_empty() {
        if let Some(last) = parts.last_mut() {
            last.keyboard = Some(keyboard(message));
        }
    }
    parts
}

pub fn keyboard(message: &Message) -> InlineKeyboardMarkup {
    InlineKeyboardMarkup::new(
        message
            .buttons
            .iter()
            .map(|row| row.iter().map(|b| InlineKeyboardButton::callback(b.label.clone(), b.action.encode())).collect::<Vec<_>>()),
    )
}

fn tg_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Packs paragraphs greedily into chunks of at most `max` characters. HTML and plain text
/// split at the same paragraph boundaries (the renderer never puts tags across them); a
/// paragraph longer than `max` is cut into plain-text pieces.
pub fn split(text: &Rich, max: usize) -> Vec<Rich> {
    // No character takes more UTF-16 units than UTF-8 bytes: short texts need no counting.
    if text.plain.len() <= max || tg_len(&text.plain) <= max {
        return vec![text.clone()];
    }
    let html: Vec<&str> = text.html.split("\n\n").collect();
    let plain: Vec<&str> = text.plain.split("\n\n").collect();
    if html.len() != plain.len() {
        return hard_split(&text.plain, max).into_iter().map(|p| Rich::text(&p)).collect();
    }
    let mut out: Vec<Rich> = Vec::new();
    let mut current = Rich::default();
    for (h, p) in html.iter().zip(&plain) {
        if tg_len(p) > max {
            if !current.plain.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            out.extend(hard_split(p, max).into_iter().map(|piece| Rich::text(&piece)));
            continue;
        }
        let joined = tg_len(&current.plain) + 2 + tg_len(p);
        if !current.plain.is_empty() && joined > max {
            out.push(std::mem::take(&mut current));
        }
        if !current.plain.is_empty() {
            current.html.push_str("\n\n");
            current.plain.push_str("\n\n");
        }
        current.html.push_str(h);
        current.plain.push_str(p);
    }
    if !current.plain.is_empty() {
        out.push(current);
    }
    out
}

/// Cuts text into pieces of at most `max` UTF-16 units, preferring line breaks and spaces.
fn hard_split(text: &str, max: usize) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut rest = text;
    while tg_len(rest) > max {
        let mut units = 0;
        let mut cut = 0;
        for (i, c) in rest.char_indices() {
            units += c.len_utf16();
            if units > max {
                break;
            }
            cut = i + c.len_utf8();
        }
        let window = &rest[..cut];
        let at = window.rfind('\n').or_else(|| window.rfind(' ')).filter(|i| *i > cut / 2).map_or(cut, |i| i + 1);
        pieces.push(rest[..at].trim_end().to_owned());
        rest = rest[at..].trim_start();
    }
    if !rest.is_empty() {
        pieces.push(rest.to_owned());
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        let r = Rich { html: "<b>a</b>".into(), plain: "a".into() };
        assert_eq!(split(&r, 10), vec![r]);
    }

    #[test]
    fn splits_at_paragraphs_and_keeps_html_whole() {
        let para = |i: usize| (format!("<b>p{i}</b> {}", "x".repeat(40)), format!("p{i} {}", "x".repeat(40)));
        let (html, plain): (Vec<String>, Vec<String>) = (0..5).map(para).unzip();
        let r = Rich { html: html.join("\n\n"), plain: plain.join("\n\n") };
        let chunks = split(&r, 100);
        assert_eq!(chunks.len(), 3);
        for c in &chunks {
            assert!(c.plain.encode_utf16().count() <= 100);
            assert_eq!(c.html.matches("<b>").count(), c.html.matches("</b>").count());
        }
        let rejoined: Vec<String> = chunks.iter().map(|c| c.plain.clone()).collect();
        assert_eq!(rejoined.join("\n\n"), r.plain);
    }

    #[test]
    fn cuts_an_overlong_paragraph() {
        let long = "word ".repeat(2000);
        let chunks = split(&Rich::text(&long), 4096);
        assert!(chunks.len() >= 3);
        assert!(chunks.iter().all(|c| c.plain.encode_utf16().count() <= 4096));
        let emoji = "😀".repeat(3000);
        assert!(split(&Rich::text(&emoji), 4096).iter().all(|c| c.plain.encode_utf16().count() <= 4096));
    }
}
