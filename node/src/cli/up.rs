//! `qun init`, `qun up`, `qun repair`, `qun backup-phrase`: the commands that work on the data
//! directory itself.

use super::output::{CliError, ExitCode};
use super::{BackupPhraseArgs, InitArgs, UpArgs};
use crate::config::{ApiInfo, Config, DataDir};
use crate::http::{self, AppState, auth::Auth};
use crate::keystore::{self, PASSPHRASE_ENV, Passphrase};
use crate::node::{NodeConfig, start};
use crate::store::sled::SledStore;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

fn choose_passphrase(no_passphrase: bool) -> Result<Passphrase, CliError> {
    if no_passphrase {
        return Ok(Passphrase::None);
    }
    if let Ok(p) = std::env::var(PASSPHRASE_ENV) {
        return Ok(if p.is_empty() {
            Passphrase::None
        } else {
            Passphrase::Given(p)
        });
    }
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("choose a passphrase for your keys (empty: none): ")
            .map_err(|e| {
                CliError::new(ExitCode::Error, e.to_string(), "set QUN_PASSPHRASE instead")
            })?;
        if !p.is_empty() {
            let again = rpassword::prompt_password("again: ").map_err(|e| {
                CliError::new(ExitCode::Error, e.to_string(), "set QUN_PASSPHRASE instead")
            })?;
            if again != p {
                return Err(CliError::new(
                    ExitCode::Refused,
                    "the passphrases differ",
                    "run the command again",
                ));
            }
            return Ok(Passphrase::Given(p));
        }
        return Ok(Passphrase::None);
    }
    eprintln!("note: no terminal and no {PASSPHRASE_ENV}: the new keyfile is stored unencrypted");
    Ok(Passphrase::None)
}

/// `qun init`.
pub fn init(dir: &DataDir, args: &InitArgs, json: bool) -> Result<(), CliError> {
    if dir.keyfile().exists() {
        return Err(CliError::new(
            ExitCode::Refused,
            format!("an identity already exists at {}", dir.keyfile().display()),
            "use another --data-dir, or move the old identity.key away first",
        ));
    }
    let now = crate::clock::now();
    if args.device {
        let pass = choose_passphrase(args.no_passphrase)?;
        let id = crate::device::init_device(dir, &pass)?;
        if !dir.config().exists() {
            Config::first_run().save(&dir.config())?;
        }
        if json {
            super::output::json(&serde_json::json!({ "device": id.to_string() }));
        } else {
            crate::say!("created device key {id}");
            crate::say!("on a device holding your root key run:  qun device link {id}");
            crate::say!("then here (node stopped):               qun device add <code>");
        }
        return Ok(());
    }
    let bundle = if args.restore {
        let mut phrase = String::new();
        eprintln!("type or paste your 24-word backup phrase, then Enter:");
        std::io::stdin().read_line(&mut phrase).map_err(|e| {
            CliError::new(ExitCode::Error, e.to_string(), "pipe the phrase on stdin")
        })?;
        let root = qun_identity::phrase::from_phrase(&phrase).map_err(|e| {
            CliError::new(
                ExitCode::Refused,
                e.to_string(),
                "check the words and their order",
            )
        })?;
        let device = qun_identity::SecretIdentity::generate().map_err(crate::Error::from)?;
        keystore::bundle_for(root, device, now)?
    } else {
        keystore::generate(now)?
    };
    let pass = choose_passphrase(args.no_passphrase)?;
    keystore::save(&dir.keyfile(), &bundle, &pass)?;
    if !dir.config().exists() {
        Config::first_run().save(&dir.config())?;
    }
    let member = bundle.member_id(now).map_err(crate::Error::from)?;
    if json {
        super::output::json(&serde_json::json!({
            "member": member.to_string(),
            "device": bundle.device.device_id().to_string(),
            "data_dir": dir.root().display().to_string(),
            "encrypted": matches!(pass, Passphrase::Given(_)),
        }));
    } else {
        crate::say!("created identity {member}");
        crate::say!("data directory   {}", dir.root().display());
        if let Some(root) = &bundle.root {
            crate::say!(
                "\nbackup phrase (write it down, keep it offline; it restores your identity):"
            );
            crate::say!("  {}", qun_identity::phrase::to_phrase(root).as_str());
        }
    }
    Ok(())
}

/// The keyfile's passphrase typed again: at a prompt on a terminal, else one line on stdin.
/// `QUN_PASSPHRASE` is deliberately not used: whoever has this session's environment must
/// not get the backup phrase for free.
fn passphrase_again() -> Result<Option<String>, CliError> {
    let line = if std::io::stdin().is_terminal() {
        rpassword::prompt_password(
            "passphrase of identity.key (again, to show the backup phrase): ",
        )
        .map_err(|e| CliError::new(ExitCode::Error, e.to_string(), "pipe it on stdin"))?
    } else {
        let mut l = String::new();
        std::io::stdin().read_line(&mut l).map_err(|e| {
            CliError::new(
                ExitCode::Error,
                e.to_string(),
                "pipe the passphrase on stdin",
            )
        })?;
        l.trim_end_matches(['\r', '\n']).to_string()
    };
    Ok((!line.is_empty()).then_some(line))
}

/// `qun backup-phrase`: only with the keyfile's passphrase typed again (or `--confirm` for a
/// keyfile without one).
pub fn backup_phrase(dir: &DataDir, args: &BackupPhraseArgs) -> Result<(), CliError> {
    use keystore::{PhraseRefusal, PhraseRequest};
    let path = dir.keyfile();
    let passphrase = match keystore::is_encrypted(&path) {
        Some(true) => passphrase_again()?,
        _ => None,
    };
    let req = PhraseRequest {
        passphrase,
        confirm_unencrypted: args.confirm,
    };
    match keystore::check_phrase_request(Some(&path), &req) {
        Ok(Some(b)) => match &b.root {
            Some(root) => {
                crate::say!("{}", keystore::phrase_of(root));
                Ok(())
            }
            None => Err(CliError::new(
                ExitCode::NotFound,
                "this device does not hold the root key",
                "print the phrase on the device that does",
            )),
        },
        Ok(None) => Err(CliError::new(
            ExitCode::Error,
            "no keyfile",
            "create an identity with `qun init`",
        )),
        Err(crate::Error::PhraseRefused(PhraseRefusal::ConfirmationNeeded)) => Err(CliError::new(
            ExitCode::Refused,
            PhraseRefusal::ConfirmationNeeded.to_string(),
            "run `qun backup-phrase --confirm` where nobody can look over your shoulder",
        )),
        Err(crate::Error::PhraseRefused(r)) => {
            Err(CliError::new(ExitCode::Refused, r.to_string(), r.hint()))
        }
        Err(e) => Err(e.into()),
    }
}

/// `qun repair`.
pub fn repair(dir: &DataDir, json: bool) -> Result<(), CliError> {
    if dir.api_info().exists() {
        return Err(CliError::new(
            ExitCode::Refused,
            "a node seems to be running in this data directory",
            "stop `qun up` first (or delete a stale api.json)",
        ));
    }
    let r = crate::store::sled::repair(&dir.store())?;
    if json {
        super::output::json(&r);
    } else {
        crate::say!("old store moved to {}", r.moved_to);
        if r.unreadable {
            crate::say!(
                "it could not be opened at all: the new store is empty; peers will send your communities again when you rejoin them"
            );
        }
        crate::say!(
            "salvaged {} communities, {} changes; {} entries could not be read",
            r.communities,
            r.changes,
            r.lost_entries
        );
    }
    Ok(())
}

/// `qun up`.
pub fn up(dir: &DataDir, args: &UpArgs, json: bool) -> Result<(), CliError> {
    let given = keystore::passphrase_from_files(args.passphrase_file.as_deref())?;
    if !dir.keyfile().exists() {
        tracing::info!("no identity yet: creating one in {}", dir.root().display());
        match &given {
            Some(p) => {
                let bundle = keystore::generate(crate::clock::now())?;
                keystore::save(&dir.keyfile(), &bundle, &Passphrase::Given(p.clone()))?;
                if !dir.config().exists() {
                    Config::first_run().save(&dir.config())?;
                }
            }
            None => init(
                dir,
                &InitArgs {
                    no_passphrase: args.no_passphrase,
                    restore: false,
                    device: false,
                },
                false,
            )?,
        }
    }
    let mut cfg = Config::load(&dir.config())?;
    if !args.listen.is_empty() {
        cfg.listen = args.listen.clone();
    }
    cfg.dial.extend(args.dial.iter().cloned());
    cfg.public_addrs.extend(args.public_addr.iter().cloned());
    if let Some(a) = &args.api {
        cfg.api = a.clone();
    }
    if let Some(a) = &args.metrics_addr {
        cfg.metrics_addr = Some(a.clone());
    }
    cfg.relay |= args.relay;
    if let Some(n) = args.max_relays {
        cfg.max_relays = n;
    }
    if args.no_mdns {
        cfg.mdns = false;
    }
    let sealed = keystore::is_encrypted(&dir.keyfile()).unwrap_or(false);
    if args.headless && sealed && given.is_none() && std::env::var_os(PASSPHRASE_ENV).is_none() {
        return Err(CliError::new(
            ExitCode::Refused,
            "identity.key is sealed with a passphrase and --headless never prompts",
            "pass --passphrase-file FILE, or LoadCredential=qun-passphrase:FILE in the systemd unit",
        ));
    }
    let keys = keystore::open(&dir.keyfile(), given.as_deref())?;
    let restored = restored_marker(dir, args.i_know_this_is_the_only_copy)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(ExitCode::Error, e.to_string(), "check system resources"))?;
    rt.block_on(async move {
        // Listen for SIGTERM and SIGINT from the start: a supervisor may stop the node at any
        // moment, and it must still stop cleanly.
        let stop = stop_signal()?;
        let store = SledStore::open(&dir.store())?;
        let swarm_key = match &args.swarm_key {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| crate::Error::io(format!("reading {}", p.display()), e))?;
                let key: libp2p::pnet::PreSharedKey = text.parse().map_err(|e| {
                    CliError::new(
                        ExitCode::Refused,
                        format!("{}: not a swarm key: {e}", p.display()),
                        "make one with `qun swarm-key > swarm.key`",
                    )
                })?;
                Some(key)
            }
            None => None,
        };
        let mut listen = cfg.listen_addrs()?;
        if swarm_key.is_some() {
            listen.retain(|a| !a.to_string().contains("/quic"));
        }
        let node_cfg = NodeConfig {
            swarm_key,
            listen,
            dial: cfg.dial_addrs()?,
            public_addrs: cfg.public_multiaddrs()?,
            mdns: cfg.mdns,
            relay: cfg.relay,
            max_relays: cfg.max_relays,
            idle_timeout: Duration::from_secs(cfg.idle_timeout_secs),
            restored,
            load: cfg.limits,
            blobs: crate::blobs::BlobSettings {
                dir: Some(dir.blobs()),
                limits: cfg.blobs,
            },
            dm_dir: Some(dir.dm()),
            ..NodeConfig::loopback(keys)
        };
        let metrics_addr = cfg.metrics_socket()?;
        let running = start(node_cfg, Box::new(store)).await?;
        let auth = Arc::new(Auth::persistent(
            http::auth::random_secret(),
            &dir.sessions(),
        ));
        let server = http::serve_with(
            cfg.api_addr()?,
            AppState {
                search: crate::search::spawn(running.handle.clone(), Some(&dir.search()))?,
                prefs: Arc::new(http::prefs::Prefs::load(&dir.prefs())),
                node: running.handle.clone(),
                auth: auth.clone(),
                keyfile: Some(dir.keyfile()),
            },
            !args.headless,
        )
        .await?;
        let scrape = match metrics_addr {
            Some(a) => Some(http::ops::serve_metrics(a, running.handle.clone()).await?),
            None => None,
        };
        let url = format!("http://{}", server.addr);
        let metrics_url = scrape.as_ref().map(|s| format!("http://{}/metrics", s.addr));
        if let Some(taken) = server.taken {
            crate::say!(
                "API port {} is taken (another node?): the API is at {url} instead; `qun` commands with this --data-dir find it in api.json",
                taken.port()
            );
        }
        ApiInfo {
            url: url.clone(),
            token: auth.token().to_string(),
            pid: std::process::id(),
            metrics_url: metrics_url.clone(),
        }
        .save(&dir.api_info())?;
        // Give the listeners a moment to report their addresses.
        let mut events = running.handle.events();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(e) = events.recv().await {
                if matches!(e, crate::dto::NodeEvent::Listening { .. }) {
                    break;
                }
            }
        })
        .await;
        let status = running.handle.status().await?;
        let login = format!("{url}/login?code={}", auth.login_code().unwrap_or_default());
        if json {
            super::output::json(&serde_json::json!({
                "status": status,
                "api": url,
                "login": (!args.headless).then_some(&login),
                "metrics": metrics_url,
            }));
        } else {
            crate::say!("qun node up");
            crate::say!("  member   {}", status.member);
            crate::say!("  peer id  {}", status.peer_id);
            for a in &status.listen_addrs {
                crate::say!("  listen   {a}");
            }
            if args.headless {
                crate::say!("  api      {url} (headless: no web page)");
            } else {
                crate::say!("  web      {login}");
                crate::say!(
                    "  (one-time login link, valid for 10 minutes; `qun login` prints a new one)"
                );
            }
            if let Some(m) = &metrics_url {
                crate::say!("  metrics  {m}");
            }
            crate::say!("press Ctrl-C to stop");
        }
        let signal = stop.await;
        tracing::info!(signal, "stopping: flushing the store");
        let _ = running.handle.shutdown().await;
        let _ = running.task.await;
        server.task.abort();
        if let Some(s) = scrape {
            s.task.abort();
        }
        let _ = std::fs::remove_file(dir.api_info());
        tracing::info!("stopped");
        Ok::<(), CliError>(())
    })
}

/// A future that ends on SIGINT (Ctrl-C) or SIGTERM (systemd, `docker stop`) with the
/// signal's name; the handlers are installed at once.
fn stop_signal() -> Result<impl std::future::Future<Output = &'static str>, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen = |kind| {
            signal(kind).map_err(|e| {
                CliError::new(
                    ExitCode::Error,
                    format!("cannot listen for signals: {e}"),
                    "check system resources",
                )
            })
        };
        let mut term = listen(SignalKind::terminate())?;
        let mut int = listen(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = int.recv() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        })
    }
}

/// The restore marker, when this data directory was restored from a backup and has not caught
/// up yet (`None` with `--i-know-this-is-the-only-copy`, which removes it).
fn restored_marker(dir: &DataDir, only_copy: bool) -> Result<Option<std::path::PathBuf>, CliError> {
    let marker = dir.root().join(crate::backup::RESTORED_MARKER);
    if !marker.exists() {
        return Ok(None);
    }
    if only_copy {
        std::fs::remove_file(&marker)
            .map_err(|e| crate::Error::io(format!("removing {}", marker.display()), e))?;
        tracing::warn!(
            "restored node writing at once (--i-know-this-is-the-only-copy): it does not wait to catch up with peers"
        );
        return Ok(None);
    }
    tracing::info!(
        "restored from a backup: own writes wait until this node caught up with a peer in each community"
    );
    Ok(Some(marker))
}

/// `qun device add CODE` (the node must be stopped).
pub fn device_add(dir: &DataDir, code: &str, json: bool) -> Result<(), CliError> {
    if dir.api_info().exists() {
        return Err(CliError::new(
            ExitCode::Refused,
            "a node seems to be running in this data directory",
            "stop `qun up` first, then add the device code",
        ));
    }
    let c = crate::device::add_device(dir, code, None)?;
    if json {
        super::output::json(
            &serde_json::json!({"communities": c.communities.iter().map(|x| x.to_string()).collect::<Vec<_>>()}),
        );
    } else {
        crate::say!(
            "this device now acts for its member; {} communities to catch up on",
            c.communities.len()
        );
        crate::say!("start it with: qun up");
    }
    Ok(())
}
