//! The command line: `chat`, `ask`, `check`, `explain` and `serve`, and their flags.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use serde::Serialize;

use crate::content::{self, Diagnostic, Loaded, Severity};
use crate::text::crisis::CrisisDetector;
use crate::text::normalize::normalize;

#[derive(Parser)]
#[command(name = "klonopin-bot", version, about = "Curated, sourced answers about Klonopin (clonazepam), with crisis guidance first")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Talk to the bot in this terminal (buttons are numbered: type the number).
    Chat {
        #[command(flatten)]
        content: ContentArgs,
        #[command(flatten)]
        app: AppArgs,
    },
    /// Read one message per line from stdin, write one reply per line.
    Ask {
        /// One JSON object per reply: messages (text, html, buttons), topic, crisis, state.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        content: ContentArgs,
        #[command(flatten)]
        app: AppArgs,
    },
    /// Validate a responses folder: every problem as file:line:col: message.
    Check {
        /// The folder to check.
        #[arg(default_value = "responses")]
        dir: PathBuf,
        #[arg(long, value_enum, default_value = "text")]
        format: Format,
    },
    /// Show how the bot reads a message: normalized text, crisis rules, topic scores.
    Explain {
        /// The message (several words are joined with spaces).
        #[arg(required = true)]
        message: Vec<String>,
        #[command(flatten)]
        content: ContentArgs,
    },
    /// Run the Telegram bot (long polling, or a webhook with --webhook-url).
    Serve(crate::telegram::ServeArgs),
}

#[derive(clap::Args)]
pub struct ContentArgs {
    /// A responses folder to use instead of the built-in one (e.g. a work copy being edited).
    #[arg(long, env = "KLONOPIN_BOT_RESPONSES")]
    pub responses: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct AppArgs {
    /// Talk as a Telegram app set to this language would (`es-MX`: Spanish replies and a
    /// button with Mexico's numbers, if there are any; `en-GB`: the UK's).
    #[arg(long, value_name = "TAG")]
    pub app_language: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

/// Runs the command line and maps the outcome to an exit code: 0 fine, 1 a problem found
/// (invalid content, a failed service), 2 a usage error.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("klonopin-bot: {message}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        Command::Chat { content, app } => {
            let loaded = load_or_report(content.responses.as_deref())?;
            eprintln!("(type a question; a number presses a button; Ctrl-D quits)");
            let language = app.app_language.as_deref();
            crate::repl::chat(&loaded.set, language, io::stdin().lock(), io::stdout().lock()).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Ask { json, content, app } => {
            let loaded = load_or_report(content.responses.as_deref())?;
            let language = app.app_language.as_deref();
            crate::repl::ask(&loaded.set, json, language, io::stdin().lock(), io::stdout().lock()).map_err(|e| e.to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { dir, format } => Ok(check(&dir, format)),
        Command::Explain { message, content } => {
            let loaded = load_or_report(content.responses.as_deref())?;
            explain(&loaded, &message.join(" "));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve(args) => crate::telegram::serve(args),
    }
}

/// Loads the responses (a folder, or the built-in copy), or prints every diagnostic and
/// refuses: the bot never runs on invalid content.
pub fn load_or_report(dir: Option<&Path>) -> Result<Loaded, String> {
    let result = match dir {
        Some(dir) => content::load_dir(dir),
        None => content::load_embedded(),
    };
    match result {
        Ok(loaded) => {
            for warning in &loaded.warnings {
                eprintln!("{warning}");
            }
            Ok(loaded)
        }
        Err(diags) => {
            for d in &diags {
                eprintln!("{d}");
            }
            let errors = diags.iter().filter(|d| d.severity == Severity::Error).count();
            Err(format!("the responses have {errors} error(s); fix them (see `klonopin-bot check`) and start again"))
        }
    }
}

#[derive(Serialize)]
struct CheckReport<'a> {
    ok: bool,
    version: Option<&'a str>,
    topics: usize,
    errors: Vec<&'a Diagnostic>,
    warnings: Vec<&'a Diagnostic>,
    /// Cross-validated figures of the classifier, when the folder has examples.
    model: Option<crate::text::model::report::ModelReport>,
}

fn check(dir: &Path, format: Format) -> ExitCode {
    let result = content::load_dir(dir);
    let (diags, set) = match &result {
        Ok(loaded) => (loaded.warnings.as_slice(), Some(&loaded.set)),
        Err(diags) => (diags.as_slice(), None),
    };
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.severity == Severity::Error).collect();
    let warnings: Vec<&Diagnostic> = diags.iter().filter(|d| d.severity == Severity::Warning).collect();
    let ok = errors.is_empty();
    let model = set.and_then(|s| s.classifier.as_deref().map(|c| crate::text::model::report::report(c.training_set(), &s.bot.thresholds)));
    let mut out = io::stdout().lock();
    let written = match format {
        Format::Json => {
            let report = CheckReport {
                ok,
                version: set.map(|s| s.version.as_str()),
                topics: set.map_or(0, |s| s.topics.len()),
                errors,
                warnings,
                model,
            };
            serde_json::to_string_pretty(&report).map_err(io::Error::other).and_then(|s| writeln!(out, "{s}"))
        }
        Format::Text => (|| {
            for e in &errors {
                writeln!(out, "{e}")?;
            }
            for w in &warnings {
                writeln!(out, "{w}")?;
            }
            if let Some(model) = &model {
                write!(out, "{model}")?;
            }
            match set {
                Some(set) => {
                    let languages: Vec<&str> = set.languages().map(|s| s.language.as_str()).collect();
                    writeln!(
                        out,
                        "ok: {} topics in {}, content version {}, {} warning(s)",
                        set.topics.len(),
                        languages.join(" and "),
                        set.version,
                        warnings.len()
                    )
                }
                None => writeln!(out, "{} error(s), {} warning(s)", errors.len(), warnings.len()),
            }
        })(),
    };
    if written.is_err() || !ok {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Written whole at the end, so `explain ... | head` ends quietly instead of panicking on
/// the closed pipe.
fn explain(loaded: &Loaded, message: &str) {
    let mut out = String::new();
    macro_rules! outln {
        ($out:ident, $($arg:tt)*) => {{
            use std::fmt::Write as _;
            let _ = writeln!($out, $($arg)*);
        }};
    }
    let set = &loaded.set;
    let normalized = normalize(message);
    outln!(out, "normalized: {normalized}");
    if !set.translations.is_empty() {
        let language = crate::text::language::written_in(message, &normalized);
        outln!(out, "written in: {}", language.unwrap_or("unclear (the chat's language is kept)"));
    }
    let hits = CrisisDetector::get().explain(&normalized);
    if hits.is_empty() {
        outln!(out, "crisis: none");
    }
    for hit in hits {
        let note = match (&set.classifier, hit.everyday, hit.elsewhere) {
            (Some(_), _, true) => format!(
                ": a word or phrase with an everyday sense, in a message with a word of that sense too: counted only if the model's crisis score reaches {:.2}",
                set.bot.thresholds.crisis
            ),
            (Some(_), true, _) => format!(
                ": a word or phrase with an everyday sense in a message that names no drug, counted only if the model's crisis score reaches {:.2}",
                set.bot.thresholds.confirm
            ),
            _ => String::new(),
        };
        outln!(out, "crisis: {} ({}){note}", hit.kind.name(), hit.rule);
    }
    let scores = set.matcher.scores(&normalized);
    outln!(
        out,
        "term matcher (score, answer at {:.2}, suggest at {:.2}):",
        crate::text::topics::ANSWER_THRESHOLD,
        crate::text::topics::SUGGEST_THRESHOLD
    );
    for s in scores.iter().take(3) {
        outln!(out, "  {:.3}  {}", s.score, set.topics[s.topic].id);
    }
    let reading = crate::engine::reading::read(&normalized, set);
    if let (Some(model), Some(s)) = (set.classifier.as_deref(), &reading.scores) {
        let t = &set.bot.thresholds;
        outln!(out, "model: crisis {:.3} (guidance at {:.2}, check-in at {:.2})", s.crisis, t.crisis, t.check_in);
        for (kind, p) in &s.kinds {
            outln!(
                out,
                "  {:.3}  {} (once crisis reaches {:.2}: shown at {:.2}, or as the likeliest kind)",
                p,
                kind.name(),
                t.crisis,
                t.kind
            );
        }
        outln!(out, "model intents (answer at {:.2}, suggest at {:.2}):", t.answer, t.suggest);
        for (i, p) in s.intents.iter().take(5) {
            outln!(out, "  {:.3}  {}", p, model.intents()[*i]);
        }
        outln!(out, "nearest training examples:");
        for (similarity, e) in model.nearest(&normalized, 5) {
            let label = match (e.intent, e.crisis.map(|k| k.set())) {
                (Some(i), _) => model.intents()[i].clone(),
                (None, Some(kinds)) if kinds.is_empty() => "not-crisis".to_owned(),
                (None, Some(kinds)) => format!("crisis: {}", kinds.iter().map(|k| k.name()).collect::<Vec<_>>().join(", ")),
                (None, None) => "-".to_owned(),
            };
            outln!(out, "  {similarity:.3}  [{label}] {}", e.text);
        }
    }
    let kinds: Vec<&str> = reading.crisis.iter().map(|k| k.name()).collect();
    let first = if kinds.is_empty() { String::new() } else { format!("crisis guidance ({}), then ", kinds.join(", ")) };
    let check = if reading.check_in { "the check-in question, then " } else { "" };
    let route = match &reading.route {
        crate::engine::reading::Route::Topic(i) => format!("answer \"{}\"", set.topics[*i].id),
        crate::engine::reading::Route::DidYouMean(picks) => {
            let ids: Vec<&str> = picks.iter().map(|i| set.topics[*i].id.as_str()).collect();
            format!("did you mean: {}", ids.join(", "))
        }
        crate::engine::reading::Route::NoMatch | crate::engine::reading::Route::SmallTalk(_) if reading.check_in => {
            "nothing else (the question is the reply)".to_owned()
        }
        crate::engine::reading::Route::SmallTalk(name) => format!("small talk \"{name}\""),
        crate::engine::reading::Route::NoMatch if !reading.crisis.is_empty() => "nothing else (the guidance is the answer)".to_owned(),
        crate::engine::reading::Route::NoMatch => "no match: fallback and menu".to_owned(),
    };
    let outcome = format!("{first}{check}{route}");
    outln!(out, "outcome: {outcome}");
    use std::io::Write as _;
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
}
