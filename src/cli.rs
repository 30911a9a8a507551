//! Command-line interface: subcommands and their flags.

use std::io::Read as _;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, ConfigError, LogFormat, Overrides};
use crate::pipeline::{Pipeline, Source};

/// copydesk: reads raw news wire stories from Kafka, normalises and enriches them, and
/// publishes structured events.
#[derive(Debug, Parser)]
#[command(version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every subcommand that loads a configuration.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Configuration file (TOML). Without one, built-in defaults apply.
    #[arg(long, short, env = "COPYDESK_CONFIG")]
    pub config: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormat>,
}

/// Kafka flags that override the configuration.
#[derive(Debug, Clone, Args)]
pub struct KafkaArgs {
    /// Bootstrap servers (overrides kafka.brokers).
    #[arg(long)]
    pub brokers: Option<String>,
    /// Consumer group (overrides kafka.group_id).
    #[arg(long)]
    pub group_id: Option<String>,
    /// Input topic (overrides kafka.input_topic).
    #[arg(long)]
    pub input_topic: Option<String>,
    /// Output topic (overrides kafka.output_topic).
    #[arg(long)]
    pub output_topic: Option<String>,
    /// Dead-letter topic (overrides kafka.dlq_topic).
    #[arg(long)]
    pub dlq_topic: Option<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: consume, enrich, produce, until SIGTERM/SIGINT.
    Run {
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        kafka: KafkaArgs,
    },
    /// Run the whole daemon on the bundled sample stories against an embedded broker (or
    /// `--brokers`) and print the events.
    Demo {
        #[command(flatten)]
        common: CommonArgs,
        /// Use this Kafka cluster instead of the embedded broker (run-specific topics are
        /// created and deleted).
        #[arg(long)]
        brokers: Option<String>,
        /// Print one line per story instead of pretty JSON events.
        #[arg(long)]
        summary: bool,
        /// Give up if the stories are not all answered within this many seconds.
        #[arg(long, default_value_t = 120)]
        timeout_s: u64,
    },
    /// Run the pipeline on a file or stdin (no Kafka) and print the event.
    Process {
        #[command(flatten)]
        common: CommonArgs,
        /// Input file; `-` or nothing reads stdin.
        file: Option<PathBuf>,
        /// Treat the input as this content type (`text/plain`, `application/json`).
        #[arg(long)]
        content_type: Option<String>,
    },
    /// Measure throughput (raw relay, pass-through, full pipeline), latency at a fixed load
    /// and peak RSS against a real broker; prints a Markdown report.
    Bench {
        #[command(flatten)]
        common: CommonArgs,
        /// The broker to measure against.
        #[arg(long)]
        brokers: String,
        /// Stories preloaded per mode.
        #[arg(long, default_value_t = 100_000)]
        stories: usize,
        /// Partitions of the bench topics.
        #[arg(long, default_value_t = 4)]
        partitions: i32,
        /// Offered load of the latency run, stories/s.
        #[arg(long, default_value_t = 1_000)]
        rate: u32,
        /// Length of the latency run, seconds.
        #[arg(long, default_value_t = 10)]
        latency_secs: u64,
    },
    /// Write the entities found in every `*.txt` story of DIR to OUT_DIR/<story>.json in the
    /// format of the entity scorer (`{"entities":[{"name":…,"type":…}]}`).
    Eval {
        #[command(flatten)]
        common: CommonArgs,
        /// Directory of plain-text stories (first line = headline).
        dir: PathBuf,
        /// Output directory (created if missing).
        out_dir: PathBuf,
    },
    /// Validate a configuration file and print the effective configuration.
    CheckConfig {
        /// The file to check.
        file: PathBuf,
    },
}

/// An error with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad usage or configuration: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Runtime failure: exit 1.
    #[error("{0:#}")]
    Runtime(#[from] anyhow::Error),
}

impl CliError {
    /// Process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::Usage(_) => 2,
            Self::Runtime(_) => 1,
        }
    }
}

impl From<ConfigError> for CliError {
    fn from(err: ConfigError) -> Self {
        Self::Usage(format!("configuration: {err}"))
    }
}

fn load(common: &CommonArgs, kafka: Option<&KafkaArgs>) -> Result<Config, CliError> {
    let mut overrides = Overrides {
        log_format: common.log_format,
        ..Overrides::default()
    };
    if let Some(k) = kafka {
        overrides.brokers = k.brokers.clone();
        overrides.group_id = k.group_id.clone();
        overrides.input_topic = k.input_topic.clone();
        overrides.output_topic = k.output_topic.clone();
        overrides.dlq_topic = k.dlq_topic.clone();
    }
    Ok(Config::load(common.config.as_deref(), &overrides)?)
}

/// Resolves when SIGINT or SIGTERM arrives.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    // ctrl_c() registers its handler only when first polled; the future is created (and so
    // registered) here, before start-up work, like the SIGTERM stream below.
    let mut ctrl_c = Box::pin(tokio::signal::ctrl_c());
    let _ = futures::FutureExt::poll_unpin(
        &mut ctrl_c,
        &mut std::task::Context::from_waker(std::task::Waker::noop()),
    );
    let ctrl_c = async move {
        if let Err(err) = ctrl_c.await {
            tracing::error!(%err, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = {
        // Registered before the first poll: a SIGTERM during start-up (state rebuild, group
        // join) must still mean a clean stop, not the default action (killed by the signal).
        let signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
        async {
            match signal {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(err) => {
                    tracing::error!(%err, "cannot listen for SIGTERM");
                    std::future::pending::<()>().await;
                }
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    async move {
        tokio::select! {
            _ = ctrl_c => {},
            _ = term => {},
        }
    }
}

/// Runs a parsed command line.
pub async fn execute(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Run { common, kafka } => {
            let config = load(&common, Some(&kafka))?;
            crate::telemetry::init_logging(&config.log);
            crate::app::run(config, shutdown_signal()).await?;
            Ok(())
        }
        Command::Demo {
            common,
            brokers,
            summary,
            timeout_s,
        } => {
            let config = load(&common, None)?;
            crate::telemetry::init_logging(&config.log);
            let options = crate::demo::DemoOptions {
                brokers,
                summary,
                timeout: Duration::from_secs(timeout_s),
            };
            crate::demo::run(config, &options).await?;
            Ok(())
        }
        Command::Process {
            common,
            file,
            content_type,
        } => {
            let config = load(&common, None)?;
            crate::telemetry::init_logging(&config.log);
            let bytes = match file.as_deref() {
                None => read_stdin()?,
                Some(p) if p.as_os_str() == "-" => read_stdin()?,
                Some(path) => std::fs::read(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            };
            // One story, no Kafka: identity is tracked in memory only (status "new").
            let pipeline = Pipeline::from_config(&config, None);
            let source = Source::default();
            match pipeline.process(&bytes, content_type.as_deref(), &source) {
                Ok(processed) => {
                    let event: serde_json::Value = serde_json::from_slice(&processed.payload)
                        .context("encoder produced invalid JSON")?;
                    println!("{}", serde_json::to_string_pretty(&event).context("print")?);
                    Ok(())
                }
                Err(failure) => Err(CliError::Runtime(anyhow::anyhow!(
                    "{} ({} in {})",
                    failure.message,
                    failure.class,
                    failure.stage
                ))),
            }
        }
        Command::Bench {
            common,
            brokers,
            stories,
            partitions,
            rate,
            latency_secs,
        } => {
            let config = load(&common, None)?;
            crate::telemetry::init_logging(&config.log);
            let options = crate::bench::BenchOptions {
                brokers,
                stories,
                partitions,
                rate,
                latency_secs,
            };
            let report = crate::bench::run(config, &options).await?;
            print!("{report}");
            Ok(())
        }
        Command::Eval {
            common,
            dir,
            out_dir,
        } => {
            let config = load(&common, None)?;
            crate::telemetry::init_logging(&config.log);
            let n = crate::enrich::entities::eval::run(&config.pipeline, &dir, &out_dir)?;
            println!("{n} stories written to {}", out_dir.display());
            Ok(())
        }
        Command::CheckConfig { file } => {
            let config = Config::load(Some(&file), &Overrides::default())?;
            print!("{}", config.to_toml());
            Ok(())
        }
    }
}

fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .context("cannot read stdin")?;
    Ok(bytes)
}
