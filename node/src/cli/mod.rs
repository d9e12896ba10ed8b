//! The `qun` command line.
//!
//! Every command except `init`, `up` and `repair` talks to the running node over its local API
//! (address and token from `api.json` in the data directory). Errors print as one line plus a
//! hint; exit codes: 0 ok, 1 error, 2 usage, 3 no node running, 4 not found, 5 refused
//! (unauthorized or invalid).

mod client;
mod commands;
mod dm;
mod ledger;
mod market;
mod motion;
mod ops;
mod output;
mod up;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

pub use output::{CliError, ExitCode};

/// qun (群): a peer-to-peer community network.
#[derive(Parser, Debug)]
#[command(name = "qun", version, about, propagate_version = true)]
pub struct Cli {
    /// Data directory (default: the platform's data dir, e.g. ~/.local/share/qun).
    #[arg(long, global = true, env = "QUN_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Log lines on stderr as text or as JSON objects, one per line (for log collectors).
    #[arg(
        long,
        global = true,
        env = "QUN_LOG_FORMAT",
        value_enum,
        default_value_t
    )]
    pub log_format: crate::logging::LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create an identity (root key, device key) in the data directory.
    Init(InitArgs),
    /// Run the node in the foreground (creates an identity on first run).
    Up(UpArgs),
    /// Show the node's identity, addresses and communities.
    Status,
    /// Show your member id, this device and its certificate, and your devices in communities.
    Identity,
    /// List connected peers.
    Peers,
    /// Print a new one-time login link for the web page (it works for 10 minutes).
    Login,
    /// Communities: create, list, invite, join.
    #[command(subcommand)]
    Community(CommunityCmd),
    /// Write a post (or a reply).
    Post(PostArgs),
    /// Read a channel.
    Feed(FeedArgs),
    /// Replies to your posts, mentions of you and reactions, newest first.
    Notifications(NotificationsArgs),
    /// Search posts (full text) and members (by name) in your communities.
    Search(SearchArgs),
    /// List members and roles.
    Members(CommunityArg),
    /// Endorse a member (weight -1..1; 0 revokes).
    Endorse(EndorseArgs),
    /// List the endorsements published in a community (those in force).
    Endorsements(EndorsementsArgs),
    /// Members ranked by trust from your point of view, or why one member is trusted.
    Trust(TrustArgs),
    /// Direct messages, end-to-end encrypted: send, list, read.
    #[command(subcommand)]
    Dm(dm::DmCmd),
    /// The market: listings, deals, reviews.
    #[command(subcommand)]
    Market(market::MarketCmd),
    /// The community's ledger: entries and holds, or enable|disable|unfreeze.
    Ledger(ledger::LedgerArgs),
    /// Pay a member (with --deal: into escrow for a deal).
    Pay(ledger::PayArgs),
    /// Your balance, credit limit and why, holds and history.
    Balance(ledger::BalanceArgs),
    /// Crowdfunding proposals: create, pledge, close, list.
    #[command(subcommand)]
    Proposal(ledger::ProposalCmd),
    /// Bounties: create, claim, submit, accept, reject, cancel, list.
    #[command(subcommand)]
    Bounty(ledger::BountyCmd),
    /// Vote on a proposal or a motion: yes, no or abstain.
    Vote(ledger::VoteArgs),
    /// Governance changes decided by vote: voting, propose, enact, list.
    #[command(subcommand)]
    Motion(motion::MotionCmd),
    /// Save a community's Automerge documents to a directory.
    Export(ExportArgs),
    /// Print the backup phrase of your root key (keep it offline!). Asks for the keyfile's
    /// passphrase again (at the prompt, or one line on stdin; QUN_PASSPHRASE is not used).
    BackupPhrase(BackupPhraseArgs),
    /// Salvage a damaged store (the old one is moved aside, never deleted).
    Repair,
    /// Back up the running node (store, identity, config) to a new directory OUT.
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory (the node then catches up with its peers
    /// before it writes again).
    Restore(RestoreArgs),
    /// Second devices: link (on the device with the root key), add (on the new device),
    /// revoke.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Print a new random swarm key for a private swarm (`qun up --swarm-key FILE`).
    SwarmKey,
    /// Images and attachments kept by the node.
    #[command(subcommand)]
    Blobs(BlobsCmd),
}

/// Blob subcommands.
#[derive(Subcommand, Debug)]
pub enum BlobsCmd {
    /// Remove the files no post or profile in your communities names, once older than the
    /// grace period (`[blobs] gc_grace_secs`, a day by default).
    Gc,
}

/// Device subcommands.
#[derive(Subcommand, Debug)]
pub enum DeviceCmd {
    /// On the device holding the root key: certify a new device (its id from
    /// `qun init --device`), announce it in your communities, print its device code.
    Link {
        /// The new device's id (z6Mk…).
        device: String,
        /// A label ("phone").
        #[arg(long, default_value = "device")]
        label: String,
    },
    /// On the new device (node stopped): store the certificate from a device code.
    Add {
        /// The code from `qun device link`.
        code: String,
    },
    /// On the device holding the root key: revoke a device (its writes not seen before the
    /// revocation stop counting everywhere).
    Revoke {
        /// The device id.
        device: String,
        /// Why.
        #[arg(long, default_value = "")]
        reason: String,
    },
}

/// `backup-phrase` options.
#[derive(Args, Debug)]
pub struct BackupPhraseArgs {
    /// Show the phrase although the keyfile has no passphrase (required then: nothing else
    /// stands between whoever uses this account and your identity).
    #[arg(long)]
    pub confirm: bool,
}

/// `backup` options.
#[derive(Args, Debug)]
pub struct BackupArgs {
    /// The directory to create (it must not exist; the node's user must be able to write it).
    pub out: PathBuf,
}

/// `restore` options.
#[derive(Args, Debug)]
pub struct RestoreArgs {
    /// A directory written by `qun backup`.
    pub backup: PathBuf,
}

/// `init` options.
#[derive(Args, Debug)]
pub struct InitArgs {
    /// Store the keyfile unencrypted (tests, headless nodes).
    #[arg(long)]
    pub no_passphrase: bool,
    /// Restore the root key from a backup phrase (read from stdin) instead of creating one.
    #[arg(long)]
    pub restore: bool,
    /// Create only a device key, to be linked to your identity from another device
    /// (`qun device link` there, `qun device add` here).
    #[arg(long, conflicts_with = "restore")]
    pub device: bool,
}

/// `up` options (override config.toml).
#[derive(Args, Debug)]
pub struct UpArgs {
    /// Listen address (repeatable), e.g. /ip4/0.0.0.0/tcp/4001 or /ip4/0.0.0.0/udp/4001/quic-v1.
    #[arg(long)]
    pub listen: Vec<String>,
    /// Peer to dial at start (repeatable), a full multiaddr with /p2p/<peer id>.
    #[arg(long)]
    pub dial: Vec<String>,
    /// Address this node is reachable at from outside (repeatable).
    #[arg(long)]
    pub public_addr: Vec<String>,
    /// API and web page address (default 127.0.0.1:7420; use 127.0.0.1:0 for any free port).
    #[arg(long)]
    pub api: Option<String>,
    /// Serve as a relay for other nodes (for bootstrap nodes).
    #[arg(long)]
    pub relay: bool,
    /// Most relays to listen through automatically while not publicly reachable (default 2;
    /// 0 turns automatic relay reservations off).
    #[arg(long, value_name = "N")]
    pub max_relays: Option<usize>,
    /// Do not look for peers on the local network.
    #[arg(long)]
    pub no_mdns: bool,
    /// On first run, store the new identity unencrypted.
    #[arg(long)]
    pub no_passphrase: bool,
    /// Private swarm: only nodes holding this key file can connect (libp2p pnet; TCP only,
    /// QUIC listen addresses are dropped). Make one with `qun swarm-key`.
    #[arg(long)]
    pub swarm_key: Option<PathBuf>,
    /// No web page (the JSON API and the operator endpoints stay on the API address); never
    /// prompts: an encrypted keyfile needs --passphrase-file, systemd's credential
    /// `qun-passphrase` or QUN_PASSPHRASE.
    #[arg(long)]
    pub headless: bool,
    /// Read the keyfile's passphrase from this file (its first line). Without it, the
    /// credential `qun-passphrase` in $CREDENTIALS_DIRECTORY (systemd `LoadCredential=`) is
    /// used when present.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Serve /metrics and /health without a token on this address too (e.g. 127.0.0.1:9464),
    /// for Prometheus.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<String>,
    /// After `qun restore`: write at once, without first catching up with peers. Only when
    /// this backup is the only copy of this node anywhere: otherwise the node may sign changes
    /// with sequence numbers it used before.
    #[arg(long)]
    pub i_know_this_is_the_only_copy: bool,
}

/// A community, by id, unique id prefix, or name.
#[derive(Args, Debug)]
pub struct CommunityArg {
    /// Community id, id prefix or name.
    pub community: String,
}

/// Community subcommands.
#[derive(Subcommand, Debug)]
pub enum CommunityCmd {
    /// Create a community with you as founder.
    Create {
        /// Name.
        name: String,
        /// Description.
        #[arg(long, default_value = "")]
        description: String,
        /// Admission policy: open, invite, endorsements:K, trust-flow.
        #[arg(long, default_value = "invite")]
        policy: String,
    },
    /// List your communities.
    List,
    /// Print an invite code.
    Invite {
        /// Community id, id prefix or name.
        community: String,
        /// Only this member may use it (default: anyone holding the code, once).
        #[arg(long = "for")]
        invitee: Option<String>,
        /// Hours the invitation stays valid.
        #[arg(long, default_value_t = 168)]
        valid_hours: u64,
    },
    /// Leave a community (founders cannot). Joining again needs a new invitation.
    Leave {
        /// Community id, id prefix or name.
        community: String,
    },
    /// Join with an invite code; waits until admitted (or --no-wait).
    Join {
        /// The code from `qun community invite`.
        code: String,
        /// Return at once instead of waiting for admission.
        #[arg(long)]
        no_wait: bool,
        /// Give up waiting after this many seconds.
        #[arg(long, default_value_t = 120)]
        timeout: u64,
    },
}

/// `post` options.
#[derive(Args, Debug)]
pub struct PostArgs {
    /// Community id, id prefix or name.
    pub community: String,
    /// The text (markdown).
    pub text: String,
    /// Channel.
    #[arg(long, default_value = "general")]
    pub channel: String,
    /// Post id to reply to.
    #[arg(long)]
    pub reply_to: Option<String>,
}

/// `search` options.
#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Words to find (all must match); "a phrase" in quotes; -word to exclude.
    #[arg(required = true)]
    pub text: Vec<String>,
    /// Only in this community (id, id prefix or name).
    #[arg(long)]
    pub community: Option<String>,
    /// Most posts.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// `notifications` options.
#[derive(Args, Debug)]
pub struct NotificationsArgs {
    /// Only unread ones.
    #[arg(long)]
    pub unread: bool,
    /// Mark every notification read afterwards.
    #[arg(long)]
    pub mark_read: bool,
}

/// `feed` options.
#[derive(Args, Debug)]
pub struct FeedArgs {
    /// Community id, id prefix or name.
    pub community: String,
    /// Channel.
    #[arg(long, default_value = "general")]
    pub channel: String,
    /// How many posts.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// `endorse` options.
#[derive(Args, Debug)]
pub struct EndorseArgs {
    /// Community id, id prefix or name.
    pub community: String,
    /// Member id (z6Mk…).
    pub member: String,
    /// Weight in [-1, 1]; 0 revokes.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    pub weight: f64,
    /// Topic (* for general trust).
    #[arg(long, default_value = "*")]
    pub topic: String,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

/// `endorsements` options.
#[derive(Args, Debug)]
pub struct EndorsementsArgs {
    /// Community id, id prefix or name.
    pub community: String,
    /// Only those given or received by this member.
    #[arg(long)]
    pub member: Option<String>,
    /// Include revocations (weight 0) and expired endorsements.
    #[arg(long)]
    pub all: bool,
}

/// `trust` options.
#[derive(Args, Debug)]
pub struct TrustArgs {
    /// Community id, id prefix or name.
    pub community: String,
    /// Explain this member's score instead of listing.
    pub member: Option<String>,
    /// How many to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
}

/// `export` options.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Community id, id prefix or name.
    pub community: String,
    /// Directory to write `<doc>.automerge` files to.
    #[arg(long, default_value = ".")]
    pub out: PathBuf,
}

/// Run a parsed command line.
pub fn run(cli: Cli) -> Result<(), CliError> {
    commands::run(cli)
}
