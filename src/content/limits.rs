//! The limits content must fit (Telegram's, the ids', the self-check's) and the numbers every
//! American crisis block must carry.

/// Telegram's limit for one message, in UTF-16 code units.
pub const TELEGRAM_MAX_TEXT: usize = 4096;
/// Telegram's limits for the bot's description and short description (setMyDescription).
pub const TELEGRAM_MAX_DESCRIPTION: usize = 512;
pub const TELEGRAM_MAX_SHORT_DESCRIPTION: usize = 120;
/// Telegram's limit for a button's callback data, in bytes.
pub const TELEGRAM_MAX_CALLBACK: usize = 64;
/// Longest topic id: it travels in callback data and deep links.
pub const MAX_ID_LEN: usize = 40;
/// Number of DSM-5 criteria the self-check asks about.
pub const SELF_CHECK_QUESTIONS: usize = 11;

/// The language of the folder itself.
pub const LANGUAGES_ROOT: &str = "en";
/// The translations a folder may hold, each in a subfolder of that name (`es/bot.toml`...).
pub const LANGUAGES: &[&str] = &["es"];

/// The SAMHSA National Helpline: every crisis block must carry it.
pub const SAMHSA: &str = "1-800-662-4357";
/// Poison Help: the overdose block must carry it.
pub const POISON_HELP: &str = "1-800-222-1222";
