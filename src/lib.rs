//! klonopin-bot: curated, sourced answers about Klonopin (clonazepam) and a path to real help.
//!
//! One engine, several front ends. The layout:
//! - [`text`]: pure text understanding: [`text::normalize`] folds what people type into one
//!   form, [`text::crisis`] finds overdose, withdrawal and self-harm mentions, and
//!   [`text::topics`] scores topics with typo tolerance, and [`text::model`] is the learned
//!   classifier (static sentence embeddings + n-grams, trained from `responses/examples/`
//!   when content loads) that reads what the rules cannot; [`text::place`] notices "I'm in
//!   the UK" and [`text::language`] a message clearly in Spanish or English.
//! - [`content`]: the operators' `responses/` files, parsed and validated into an immutable
//!   [`content::ResponseSet`]; every problem is a `file:line:col: message` diagnostic. The
//!   texts that give phone numbers are filled once per country ([`content::region`]), and
//!   `responses/es/` is a second set in Spanish that shares the first's matcher and model
//!   ([`content::ResponseSet::translations`]); [`engine::step_in`] picks the chat's.
//! - [`engine`]: the pure dialogue state machine, `step(state, input, content)`, which
//!   decides everything the bot says. Crisis guidance comes first, in every state;
//!   [`engine::reading`] combines the rules, the classifier and `bot.toml`'s thresholds.
//! - [`repl`]: the terminal front ends (`chat`, `ask`) over the same engine.
//! - [`stats`]: counters of what the bot did (never who, never what was said).
//! - [`telegram`]: the thin teloxide adapter that runs the bot as a service.
//! - [`cli`]: the command line that ties them together.

pub mod cli;
pub mod content;
pub mod engine;
pub mod repl;
pub mod stats;
pub mod telegram;
pub mod text;
