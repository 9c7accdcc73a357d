//! The answer markup an operator writes, rendered: anything it accepts becomes HTML that
//! Telegram accepts (properly nested, escaped), and the plain text holds no markup.
#![no_main]

use klonopin_bot::content::render::render;
use klonopin_bot_fuzz::parse_telegram_html;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let source = String::from_utf8_lossy(data);
    if let Ok(rich) = render(&source) {
        if let Err(e) = parse_telegram_html(&rich.html) {
            panic!("Telegram would reject the rendering of {source:?} ({e}): {}", rich.html);
        }
    }
});
