use super::values::parse_size;
use super::*;
use crate::health::gate::{GatePolicy, OnDegraded};
use crate::notify::{Event, Via};
use crate::rules::{Copies, GraceTier, SeriesMode, WatchedBy};
use std::os::unix::fs::PermissionsExt;

const KEY: &str = "s3cr3t-key-value";

fn env() -> Env {
    Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
        ("SHELFLIFE_SONARR_API_KEY", KEY),
        ("SHELFLIFE_SEERR_API_KEY", KEY),
    ])
}

const MINIMAL: &str = r#"
[jellyfin]
url = "http://127.0.0.1:8096"
users = ["alice"]

[radarr]
url = "http://127.0.0.1:7878"
"#;

fn parse(text: &str) -> Result<Loaded, ConfigError> {
    Config::parse(text, Path::new("/etc/shelflife/config.toml"), &env())
}

fn err(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn minimal_config_gets_the_contract_defaults() {
    // The contract's values, written out: a changed default must change this test too.
    let Loaded { config, warnings } = parse(MINIMAL).expect("valid");
    assert!(config.dry_run, "dry run must be the default");
    assert_eq!(
        config.rules,
        Rules {
            watched_by: WatchedBy::Any,
            grace_days: 5,
            notice_days: 0,
            keep_tags: vec!["keep".to_owned()],
            keep_favorites: true,
            keep_lossless: false,
            series_mode: SeriesMode::Hybrid,
            partial_season_threshold: 1.0,
            protect_latest_season: true,
            max_deletions_per_run: 50,
            copies: Copies::Together,
        }
    );
    assert_eq!(config.jellyfin.users, vec!["alice"]);
    let http = &config.jellyfin.http;
    assert_eq!(
        (
            http.timeout,
            http.list_timeout,
            http.connect_timeout,
            http.retries
        ),
        (
            Duration::from_secs(30),
            Duration::from_secs(180),
            Duration::from_secs(5),
            3
        )
    );
    assert_eq!(config.radarr.first().map(|r| &r.http), Some(http));
    assert!(config.sonarr.is_empty());
    assert_eq!(
        config
            .radarr
            .iter()
            .map(|r| (r.name.as_str(), r.add_import_exclusion))
            .collect::<Vec<_>>(),
        [("radarr", false)]
    );
    assert_eq!(config.health.interval, Duration::from_secs(60));
    assert_eq!(config.health.require_healthy_for, None);
    assert_eq!(config.health.policy.on_degraded_array, OnDegraded::Pause);
    assert_eq!(config.health.policy.on_low_space, OnDegraded::Proceed);
    let arrays = &config.health.arrays;
    assert_eq!(arrays.mdstat, PathBuf::from("/proc/mdstat"));
    assert_eq!(arrays.zpool, PathBuf::from("zpool"));
    assert_eq!(arrays.btrfs_sysfs, PathBuf::from("/sys/fs/btrfs"));
    assert_eq!(
        config.state.path,
        PathBuf::from("/var/lib/shelflife/state.db")
    );
    assert_eq!(config.metrics.textfile, None);
    assert_eq!(
        config.leaving_soon,
        LeavingSoonConfig {
            collection: Some("Leaving Soon".to_owned())
        }
    );
    assert!(config.notify.is_empty());
    // Deleting with nothing checking the storage is allowed, and said.
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].ends_with(NO_MOUNTS), "{warnings:?}");
}

#[test]
fn a_mount_gets_the_contract_defaults() {
    let text = format!("{MINIMAL}\n[[health.mounts]]\npath = \"/srv/media\"\n");
    let Loaded { config, .. } = parse(&text).expect("valid");
    let mount = &config.health.mounts[0];
    assert_eq!(mount.timeout, Duration::from_secs(5));
    assert!(!mount.allow_readonly);
    assert_eq!(mount.min_free_percent, 5.0);
    assert_eq!(mount.min_free_bytes, 0);
    assert_eq!((&mount.fstype, &mount.canary), (&None, &None));
}

#[test]
fn a_mount_to_check_silences_the_storage_warning() {
    let text = format!(
        "{MINIMAL}\n[[health.mounts]]\npath = \"/srv/media\"\ncanary = \".shelflife-canary\"\n"
    );
    let Loaded { warnings, .. } = parse(&text).expect("valid");
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn request_limits_per_service() {
    let text = format!(
            "{MINIMAL}list_timeout = \"10m\"\nconnect_timeout = \"2s\"\nretries = 0\ntimeout = \"5s\"\n"
        );
    let Loaded { config, .. } = parse(&text).expect("valid");
    let http = &config.radarr.first().expect("radarr").http;
    assert_eq!(http.list_timeout, Duration::from_secs(600));
    assert_eq!(http.connect_timeout, Duration::from_secs(2));
    assert_eq!(http.timeout, Duration::from_secs(5));
    assert_eq!(http.retries, 0);
    assert_eq!(
        config.jellyfin.http.timeout,
        Duration::from_secs(30),
        "per service"
    );
    let shown = config.to_redacted_toml();
    assert!(shown.contains("list_timeout = \"10m\""), "{shown}");
    assert!(shown.contains("retries = 0"), "{shown}");
    for (bad, says) in [
        (
            "retries = 11\n",
            "`radarr.retries` must be between 0 and 10",
        ),
        ("retries = -1\n", "`radarr.retries`"),
        (
            "list_timeout = \"1h\"\n",
            "`radarr.list_timeout` lets one list request take",
        ),
        (
            "connect_timeout = \"0s\"\n",
            "`radarr.connect_timeout` must be longer than zero",
        ),
    ] {
        let e = err(&format!("{MINIMAL}{bad}"));
        assert!(e.contains(says), "{bad}: {e}");
    }
}

#[test]
fn state_directory_from_systemd() {
    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
        ("STATE_DIRECTORY", "/var/lib/shelflife:/var/lib/other"),
    ]);
    let loaded = Config::parse(MINIMAL, Path::new("c.toml"), &env).expect("valid");
    assert_eq!(
        loaded.config.state.path,
        PathBuf::from("/var/lib/shelflife/state.db")
    );
    let explicit = format!("{MINIMAL}\n[state]\npath = \"/srv/s.db\"\n");
    let loaded = Config::parse(&explicit, Path::new("c.toml"), &env).expect("valid");
    assert_eq!(loaded.config.state.path, PathBuf::from("/srv/s.db"));
}

#[test]
fn unknown_keys_name_key_table_file_line_and_suggestion() {
    let e = err(&format!("{MINIMAL}\n[rules]\ngrace_dyas = 3\n"));
    assert_eq!(
            e,
            "/etc/shelflife/config.toml: unknown key `grace_dyas` in [rules] (line 10); did you mean `grace_days`?"
        );
    let e = err(&format!("dry_rn = false\n{MINIMAL}"));
    assert!(
        e.contains("unknown key `dry_rn` in the top level (line 1); did you mean `dry_run`?"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[path_map]]\njellyfin = \"/a\"\narr_path = \"/b\"\n"
    ));
    assert!(
        e.contains("`arr_path` in [[path_map]]") && e.contains("did you mean `arr`?"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[[health.mounts]]\npath = \"/srv\"\ncanery = \"x\"\n"
    ));
    assert!(
        e.contains("`canery` in [[health.mounts]]") && e.contains("`canary`"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL}\n[colour]\nx = 1\n"));
    assert!(
        e.contains("unknown key `colour` in the top level") && !e.contains("did you mean"),
        "{e}"
    );
    let e = err(&format!(
        "{MINIMAL}\n[sonarr]\nurl = \"http://s\"\nadd_import_exclusion = true\n"
    ));
    assert!(e.contains("`add_import_exclusion` in [sonarr]"), "{e}");
}

#[test]
fn syntax_and_type_errors_keep_the_position() {
    let e = err("[jellyfin\nurl = 1\n");
    assert!(
        e.starts_with("/etc/shelflife/config.toml: ") && e.contains("line 1"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL}\n[rules]\ngrace_days = \"five\"\n"));
    assert!(e.contains("line 10") && e.contains("grace_days"), "{e}");
}

#[test]
fn invalid_values_are_named() {
    let cases = [
        ("[rules]\nseries_mode = \"weekly\"\n", "rules.series_mode"),
        (
            "[rules]\npartial_season_threshold = 0\n",
            "rules.partial_season_threshold",
        ),
        (
            "[rules]\npartial_season_threshold = 1.5\n",
            "rules.partial_season_threshold",
        ),
        (
            "[rules]\nmax_deletions_per_run = 0\n",
            "rules.max_deletions_per_run",
        ),
        ("[rules]\ngrace_days = -1\n", "rules.grace_days"),
        ("[rules]\nkeep_tags = [\"\"]\n", "rules.keep_tags"),
        ("[health]\ninterval = \"soon\"\n", "health.interval"),
        (
            "[health]\non_low_space = \"maybe\"\n",
            "health.on_low_space",
        ),
        (
            "[health]\nrequire_healthy_for = \"0s\"\n",
            "health.require_healthy_for",
        ),
        (
            "[[health.mounts]]\npath = \"/srv\"\nmin_free_percent = 150.0\n",
            "health.mounts[1].min_free_percent",
        ),
        (
            "[[health.mounts]]\npath = \"/srv\"\nmin_free_bytes = \"lots\"\n",
            "health.mounts[1].min_free_bytes",
        ),
        (
            "[[health.mounts]]\npath = \"/srv\"\nmin_free_bytes = -1\n",
            "health.mounts[1].min_free_bytes",
        ),
        (
            "[[path_map]]\njellyfin = \"media\"\narr = \"/m\"\n",
            "path_map[1].jellyfin",
        ),
        (
            "[[health.mounts]]\npath = \"srv\"\n",
            "health.mounts[1].path",
        ),
        ("[metrics]\ntextfile = \"m.prom\"\n", "metrics.textfile"),
    ];
    for (extra, key) in cases {
        let e = err(&format!("{MINIMAL}\n{extra}"));
        assert!(e.contains(&format!("`{key}`")), "{extra}: {e}");
    }
    let bad_url = MINIMAL.replace("http://127.0.0.1:8096", "127.0.0.1:8096");
    assert!(err(&bad_url).contains("`jellyfin.url` must be an http:// or https:// URL"));
    let no_users = MINIMAL.replace("users = [\"alice\"]", "users = []");
    assert!(err(&no_users).contains("`jellyfin.users`"));
    let bad_watch = format!(
        "{}watched_by = \"most\"\n",
        MINIMAL.replace("[radarr]\nurl = \"http://127.0.0.1:7878\"\n", "")
    );
    assert!(
        err(&bad_watch).contains("`jellyfin.watched_by`"),
        "{}",
        err(&bad_watch)
    );
    assert!(err("dry_run = true\n").contains("[jellyfin]"));
}

fn loaded_key(text: &str, env: &Env) -> Result<Secret, ConfigError> {
    Config::parse(text, Path::new("c.toml"), env).map(|l| l.config.jellyfin.api_key)
}

const JF_ONLY: &str = "[jellyfin]\nurl = \"http://j\"\nusers = [\"a\"]\n";

#[test]
fn secrets_come_from_the_first_source_that_has_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key_file = dir.path().join("jf.key");
    std::fs::write(&key_file, "from-file\n").expect("write");
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).expect("mkdir");
    std::fs::write(creds.join("jellyfin"), "from-credential").expect("write");
    let creds_str = creds.display().to_string();
    let full_env = Env::from_pairs([
        ("CREDENTIALS_DIRECTORY", creds_str.as_str()),
        ("SHELFLIFE_JELLYFIN_API_KEY", "from-env"),
    ]);

    let inline = format!("{JF_ONLY}api_key = \"inline\"\n");
    assert_eq!(
        loaded_key(&inline, &full_env).expect("ok").expose(),
        "inline"
    );
    let file = format!("{JF_ONLY}api_key_file = \"{}\"\n", key_file.display());
    assert_eq!(
        loaded_key(&file, &full_env).expect("ok").expose(),
        "from-file"
    );
    assert_eq!(
        loaded_key(JF_ONLY, &full_env).expect("ok").expose(),
        "from-credential"
    );
    let credstore = dir.path().join("credstore");
    std::fs::create_dir(&credstore).expect("mkdir");
    std::fs::write(credstore.join("shelflife.jellyfin"), "from-credstore\n").expect("write");
    let env_only =
        Env::from_pairs([("SHELFLIFE_JELLYFIN_API_KEY", "from-env")]).with_credstore(&credstore);
    assert_eq!(
        loaded_key(JF_ONLY, &env_only).expect("ok").expose(),
        "from-env"
    );
    // Last: the credential store the units load from, for root at a shell.
    let bare = Env::default().with_credstore(&credstore);
    assert_eq!(
        loaded_key(JF_ONLY, &bare).expect("ok").expose(),
        "from-credstore"
    );
    let e = loaded_key(JF_ONLY, &Env::default().with_credstore(dir.path()))
        .expect_err("no shelflife.jellyfin there")
        .to_string();
    assert!(e.contains("shelflife.jellyfin"), "{e}");
}

#[test]
fn secret_errors() {
    let both = format!("{JF_ONLY}api_key = \"a\"\napi_key_file = \"/k\"\n");
    let e = loaded_key(&both, &Env::default())
        .expect_err("both set")
        .to_string();
    assert!(e.contains("api_key_file are both set"), "{e}");

    let e = loaded_key(JF_ONLY, &Env::default())
        .expect_err("none")
        .to_string();
    assert!(
        e.contains("no API key for jellyfin")
            && e.contains("jellyfin.api_key_file")
            && e.contains("$CREDENTIALS_DIRECTORY/jellyfin")
            && e.contains("$SHELFLIFE_JELLYFIN_API_KEY"),
        "{e}"
    );

    let missing = format!("{JF_ONLY}api_key_file = \"/nonexistent/jf.key\"\n");
    let e = loaded_key(&missing, &Env::default())
        .expect_err("unreadable")
        .to_string();
    assert!(e.contains("/nonexistent/jf.key"), "{e}");

    let empty = format!("{JF_ONLY}api_key = \"  \"\n");
    let e = loaded_key(&empty, &Env::default())
        .expect_err("empty")
        .to_string();
    assert!(e.contains("is empty"), "{e}");
}

#[test]
fn secrets_never_show() {
    let text = format!(
        "{JF_ONLY}api_key = \"{KEY}\"\n[radarr]\nurl = \"http://r\"\napi_key = \"{KEY}\"\n"
    );
    let loaded = Config::parse(&text, Path::new("c.toml"), &Env::default()).expect("valid");
    let shown = loaded.config.to_redacted_toml();
    assert!(!shown.contains(KEY), "{shown}");
    assert!(
        shown.contains("api_key = \"<redacted: from inline jellyfin.api_key>\""),
        "{shown}"
    );
    assert!(!format!("{:?}", loaded.config).contains(KEY));
    // What `config show` prints is itself a valid config shape (keys the parser knows).
    let reparsed: Result<toml::Table, _> = toml::from_str(&shown);
    assert!(reparsed.is_ok(), "{shown}");
}

#[test]
fn world_readable_inline_key_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(&path, format!("{JF_ONLY}api_key = \"{KEY}\"\n")).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let loaded = Config::load(&path, &Env::default()).expect("valid");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("other users can read it") && w.contains("chmod 600")),
        "{:?}",
        loaded.warnings
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let loaded = Config::load(&path, &Env::default()).expect("valid");
    assert!(!loaded
        .warnings
        .iter()
        .any(|w| w.contains("other users can read it")));
}

#[test]
fn missing_file_is_named() {
    let e = Config::load(Path::new("/nonexistent/shelflife.toml"), &env())
        .expect_err("missing")
        .to_string();
    assert!(e.contains("/nonexistent/shelflife.toml"), "{e}");
}

#[test]
fn example_is_valid_and_dry() {
    // As the shipped units run it: keys from $CREDENTIALS_DIRECTORY, state from
    // $STATE_DIRECTORY.
    let dir = tempfile::tempdir().expect("tempdir");
    for service in ["jellyfin", "radarr", "sonarr"] {
        std::fs::write(dir.path().join(service), KEY).expect("write");
    }
    let creds = dir.path().display().to_string();
    let env = Env::from_pairs([
        ("CREDENTIALS_DIRECTORY", creds.as_str()),
        ("STATE_DIRECTORY", "/var/lib/shelflife"),
    ]);
    let loaded = Config::parse(EXAMPLE, Path::new("/etc/shelflife/config.toml"), &env)
        .expect("the shipped example must parse");
    let config = loaded.config;
    assert!(config.dry_run);
    assert!(config.radarr.len() == 1 && config.sonarr.len() == 1);
    assert_eq!(config.jellyfin.api_key.expose(), KEY);
    assert_eq!(
        config.state.path,
        Path::new("/var/lib/shelflife/state.db"),
        "the state path is left to systemd"
    );
}

#[test]
fn sizes_read_as_people_write_them() {
    assert_eq!(parse_size("4096"), Some(4096));
    assert_eq!(parse_size("50GB"), Some(50_000_000_000));
    assert_eq!(parse_size("1.5 TiB"), Some(1_649_267_441_664));
    assert_eq!(parse_size("200 MiB"), Some(200 * 1024 * 1024));
    assert_eq!(parse_size("10 parsecs"), None);
    assert_eq!(parse_size(""), None);
}

#[test]
fn mount_keys_and_health_policy_are_read() {
    let text = format!(
            "{MINIMAL}\n[health]\nrequire_healthy_for = \"10m\"\non_degraded_array = \"proceed\"\n\
             on_low_space = \"pause\"\nmdstat = \"/tmp/mdstat\"\n\n[[health.mounts]]\npath = \"/srv\"\n\
             fstype = \"nfs4\"\ncanary = \".c\"\ntimeout = \"2s\"\nallow_readonly = true\n\
             min_free_percent = 10\nmin_free_bytes = \"1GB\"\n"
        );
    let config = parse(&text).expect("valid").config;
    let h = &config.health;
    assert_eq!(h.require_healthy_for, Some(Duration::from_secs(600)));
    assert_eq!(
        h.policy,
        GatePolicy {
            on_degraded_array: OnDegraded::Proceed,
            on_low_space: OnDegraded::Pause
        }
    );
    assert_eq!(h.arrays.mdstat, PathBuf::from("/tmp/mdstat"));
    let m = &h.mounts[0];
    assert_eq!(m.fstype.as_deref(), Some("nfs4"));
    assert_eq!(m.timeout, Duration::from_secs(2));
    assert!(m.allow_readonly);
    assert_eq!(m.min_free_percent, 10.0);
    assert_eq!(m.min_free_bytes, 1_000_000_000);
    // What `config show` prints loads back to the same health config.
    let again = parse(&config.to_redacted_toml())
        .expect("shown config loads")
        .config;
    assert_eq!(again.health, config.health);
}

const JELLYFIN: &str = r#"
[jellyfin]
url = "http://127.0.0.1:8096"
users = ["alice"]
"#;

fn two_radarrs(extra: &str) -> String {
    format!(
        "{JELLYFIN}\n[[radarr]]\nname = \"hd\"\nurl = \"http://127.0.0.1:7878\"\n\
         add_import_exclusion = true\n\n[[radarr]]\nname = \"4k\"\nurl = \"http://127.0.0.1:7879\"\n\
         timeout = \"1m\"\n{extra}"
    )
}

#[test]
fn several_instances_each_have_a_name_settings_and_their_own_key() {
    let creds = tempfile::tempdir().expect("tempdir");
    std::fs::write(creds.path().join("hd"), "hd-key\n").expect("write");
    let creds_dir = creds.path().display().to_string();
    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("CREDENTIALS_DIRECTORY", creds_dir.as_str()),
        ("SHELFLIFE_4K_API_KEY", "4k-key"),
        ("SHELFLIFE_ANIME_API_KEY", "anime-key"),
    ]);
    let text = two_radarrs("\n[[sonarr]]\nname = \"anime\"\nurl = \"http://127.0.0.1:8989\"\n");
    let config = Config::parse(&text, Path::new("/etc/shelflife/config.toml"), &env)
        .expect("valid")
        .config;
    let radarr: Vec<_> = config
        .radarr
        .iter()
        .map(|r| {
            (
                r.name.as_str(),
                r.url.as_str(),
                r.api_key.expose(),
                r.add_import_exclusion,
                r.http.timeout,
            )
        })
        .collect();
    assert_eq!(
        radarr,
        [
            (
                "hd",
                "http://127.0.0.1:7878",
                "hd-key",
                true,
                Duration::from_secs(30)
            ),
            (
                "4k",
                "http://127.0.0.1:7879",
                "4k-key",
                false,
                Duration::from_secs(60)
            ),
        ]
    );
    assert_eq!(config.sonarr[0].name, "anime");
    assert_eq!(config.sonarr[0].api_key.expose(), "anime-key");
    let servers: Vec<String> = config
        .request_limits()
        .iter()
        .map(|(server, _)| server.to_string())
        .collect();
    assert_eq!(
        servers,
        ["Jellyfin", "Radarr hd", "Radarr 4k", "Sonarr anime"]
    );
    // `config show` writes them back as arrays of tables, with their names.
    let shown = config.to_redacted_toml();
    assert!(shown.contains("[[radarr]]\nname = \"hd\""), "{shown}");
    assert!(shown.contains("[[radarr]]\nname = \"4k\""), "{shown}");
    assert!(shown.contains("[[sonarr]]\nname = \"anime\""), "{shown}");
    assert!(
        !shown.contains("hd-key") && !shown.contains("4k-key"),
        "{shown}"
    );
}

#[test]
fn a_single_table_is_the_instance_named_after_its_service() {
    let config = parse(MINIMAL).expect("valid").config;
    assert_eq!(config.radarr[0].name, "radarr");
    let shown = config.to_redacted_toml();
    assert!(shown.contains("\n[radarr]\nurl = "), "{shown}");
    assert!(!shown.contains("[[radarr]]"), "{shown}");
    // An array of one table without a name is the same instance.
    let array = parse(&MINIMAL.replace("[radarr]", "[[radarr]]"))
        .expect("valid")
        .config;
    assert_eq!(array.radarr[0].name, "radarr");
    assert_eq!(array.to_redacted_toml(), shown);
    // A single table may be named too; its key is then the name's.
    let named = err(&format!(
        "{JELLYFIN}\n[radarr]\nname = \"uhd\"\nurl = \"http://127.0.0.1:7878\"\n"
    ));
    assert!(named.contains("no API key for uhd"), "{named}");
    assert!(named.contains("$SHELFLIFE_UHD_API_KEY"), "{named}");
    assert!(named.contains("radarr.api_key"), "{named}");
}

#[test]
fn instance_names_are_unique_plain_and_not_another_servers() {
    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
        ("SHELFLIFE_HD_API_KEY", KEY),
        ("SHELFLIFE_4K_API_KEY", KEY),
        ("SHELFLIFE_A_B_API_KEY", KEY),
    ]);
    let refused = |text: &str| match Config::parse(text, Path::new("/etc/s.toml"), &env) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e.to_string(),
    };
    let e = refused(&two_radarrs("").replace("\"4k\"", "\"hd\""));
    assert!(
        e.contains("/etc/s.toml: `radarr.name` \"hd\" names two instances"),
        "{e}"
    );
    // Two unnamed tables are both "radarr".
    let e = refused(&format!(
        "{JELLYFIN}\n[[radarr]]\nurl = \"http://a:1\"\n[[radarr]]\nurl = \"http://b:1\"\n"
    ));
    assert!(e.contains("\"radarr\" names two instances"), "{e}");
    // A Radarr and a Sonarr may not share a name either: they would share a key.
    let e = refused(&two_radarrs(
        "[[sonarr]]\nname = \"hd\"\nurl = \"http://127.0.0.1:8989\"\n",
    ));
    assert!(
        e.contains("`sonarr.name` \"hd\" names two instances"),
        "{e}"
    );
    let e = refused(
        &two_radarrs("")
            .replace("\"4k\"", "\"a-b\"")
            .replace("[[radarr]]\nname = \"hd\"", "[[radarr]]\nname = \"a_b\""),
    );
    assert!(
        e.contains("would share the key variable $SHELFLIFE_A_B_API_KEY"),
        "{e}"
    );
    for bad in [
        "HD",
        "4k hdr",
        "",
        "-x",
        "../x",
        "jellyfin",
        "sonarr",
        "seerr",
        &"x".repeat(33),
    ] {
        let e = refused(&two_radarrs("").replace("\"4k\"", &format!("{bad:?}")));
        assert!(e.contains("`radarr[2].name`"), "{bad:?}: {e}");
    }
    // An unknown key in one of the tables names it.
    let e = refused(&two_radarrs("colour = \"red\"\n"));
    assert!(e.contains("unknown key `colour` in [[radarr]]"), "{e}");
    // A wrong type in one names its table.
    let e = refused(&two_radarrs("").replace("timeout = \"1m\"", "timeout = \"soon\""));
    assert!(e.contains("`radarr[2].timeout`"), "{e}");
    // Neither a table nor an array of them.
    let e = refused(&format!("radarr = 3\n{JELLYFIN}"));
    assert!(e.contains("table or an array of tables"), "{e}");
}

#[test]
fn keep_lossless_is_read_and_shown() {
    let config = parse(&format!("{MINIMAL}\n[rules]\nkeep_lossless = true\n"))
        .expect("valid")
        .config;
    assert!(config.rules.keep_lossless);
    assert!(config
        .to_redacted_toml()
        .contains("\nkeep_lossless = true\n"));
    let off = parse(MINIMAL).expect("valid").config;
    assert!(off.to_redacted_toml().contains("\nkeep_lossless = false\n"));
    let e = err(&format!("{MINIMAL}\n[rules]\nkeep_lossless = \"yes\"\n"));
    assert!(e.contains("keep_lossless"), "{e}");
    let e = err(&format!("{MINIMAL}\n[rules]\nkeep_losless = true\n"));
    assert!(e.contains("keep_lossless"), "a near miss is named: {e}");
}

#[test]
fn copies_is_together_or_separate() {
    let config = parse(&format!("{MINIMAL}\n[rules]\ncopies = \"separate\"\n"))
        .expect("valid")
        .config;
    assert_eq!(config.rules.copies, Copies::Separate);
    let e = err(&format!("{MINIMAL}\n[rules]\ncopies = \"both\"\n"));
    assert!(
        e.contains("`rules.copies` must be \"together\" or \"separate\""),
        "{e}"
    );
}

#[test]
fn a_mount_may_shorten_the_grace_of_its_root_folders_when_space_is_low() {
    let text = format!(
        "{MINIMAL}\n[[health.mounts]]\npath = \"/srv/media\"\nroot_folders = [\"/movies\", \"/tv\"]\n\
         grace_tiers = [{{ below_free_percent = 15, grace_days = 3 }}, {{ below_free_percent = 5.5, grace_days = 1 }}]\n"
    );
    let config = parse(&text).expect("valid").config;
    let mount = &config.health.mounts[0];
    assert_eq!(mount.root_folders, ["/movies", "/tv"]);
    assert_eq!(
        mount.grace_tiers,
        [
            GraceTier {
                below_free_percent: 15.0,
                grace_days: 3
            },
            GraceTier {
                below_free_percent: 5.5,
                grace_days: 1
            }
        ]
    );
    let shown = config.to_redacted_toml();
    assert!(
        shown.contains("root_folders = [\"/movies\", \"/tv\"]\ngrace_tiers = [{ below_free_percent = 15.0, grace_days = 3 }, { below_free_percent = 5.5, grace_days = 1 }]"),
        "{shown}"
    );
    // What `config show` prints reads back the same.
    let again = Config::parse(&shown, Path::new("/etc/shelflife/config.toml"), &env())
        .expect("config show reads back")
        .config;
    assert_eq!(again.health.mounts, config.health.mounts);

    let mount =
        |extra: &str| format!("{MINIMAL}\n[[health.mounts]]\npath = \"/srv/media\"\n{extra}\n");
    #[rustfmt::skip]
    let refused = [
        ("grace_tiers = [{ below_free_percent = 15, grace_days = 3 }]",
            "`health.mounts[1].grace_tiers` needs `root_folders`"),
        ("root_folders = [\"movies\"]", "`health.mounts[1].root_folders`"),
        ("root_folders = [\"/m\"]\ngrace_tiers = [{ below_free_percent = 15 }]",
            "`health.mounts[1].grace_tiers[1]` needs both"),
        ("root_folders = [\"/m\"]\ngrace_tiers = [{ below_free_percent = 0, grace_days = 1 }]",
            "`health.mounts[1].grace_tiers[1].below_free_percent` must be more than 0"),
        ("root_folders = [\"/m\"]\ngrace_tiers = [{ below_free_percent = 5, grace_days = -1 }]",
            "`health.mounts[1].grace_tiers[1].grace_days` must be a whole number"),
        ("root_folders = [\"/m\"]\ngrace_tiers = [{ below = 5, grace_days = 1 }]",
            "unknown key `below` in [[health.mounts.grace_tiers]]"),
    ];
    for (extra, expected) in refused {
        let e = err(&mount(extra));
        assert!(e.contains(expected), "{extra}: {e}");
    }
    let e = err(&format!(
        "{}[[health.mounts]]\npath = \"/srv/b\"\nroot_folders = [\"/movies/\"]\n",
        mount("root_folders = [\"/movies\"]")
    ));
    assert!(
        e.contains("`health.mounts[2].root_folders` names /movies, which health.mounts[1] holds"),
        "{e}"
    );
}

#[test]
fn a_mount_kept_at_a_free_space_target_says_so_with_when_low() {
    let mount = |extra: &str| {
        format!("{MINIMAL}\n[[health.mounts]]\npath = \"/srv/media\"\nroot_folders = [\"/movies\"]\n{extra}\n")
    };
    let config = parse(&mount(
        "space_mode = \"when_low\"\ntarget_free_percent = 20\ntarget_free_bytes = \"200GB\"",
    ))
    .expect("valid")
    .config;
    let target = config.health.mounts[0].target.expect("a target");
    assert_eq!(target.free_percent, Some(20.0));
    assert_eq!(target.free_bytes, Some(200_000_000_000));
    // The larger of the two.
    assert_eq!(target.bytes_of(10_000_000_000_000), 2_000_000_000_000);
    assert_eq!(target.bytes_of(100_000_000_000), 200_000_000_000);
    let shown = config.to_redacted_toml();
    assert!(
        shown.contains("space_mode = \"when_low\"\ntarget_free_percent = 20.0\ntarget_free_bytes = 200000000000"),
        "{shown}"
    );
    assert_eq!(
        parse(&shown).expect("reads back").config.health.mounts,
        config.health.mounts
    );
    assert!(parse(&mount("space_mode = \"always\""))
        .expect("valid")
        .config
        .health
        .mounts[0]
        .target
        .is_none());
    #[rustfmt::skip]
    let refused = [
        ("target_free_percent = 20", "needs `space_mode = \"when_low\"`"),
        ("space_mode = \"when_low\"", "\"when_low\" needs `target_free_percent` or `target_free_bytes`"),
        ("space_mode = \"sometimes\"\ntarget_free_percent = 20", "must be \"always\" or \"when_low\""),
        ("space_mode = \"when_low\"\ntarget_free_percent = 100", "must be more than 0 and less than 100"),
        ("space_mode = \"when_low\"\ntarget_free_bytes = \"lots\"", "`health.mounts[1].target_free_bytes` is not a size"),
    ];
    for (extra, expected) in refused {
        let e = err(&mount(extra));
        assert!(e.contains(expected), "{extra}: {e}");
    }
    let e = err(&format!(
        "{MINIMAL}\n[[health.mounts]]\npath = \"/srv\"\nspace_mode = \"when_low\"\ntarget_free_percent = 5\n"
    ));
    assert!(
        e.contains("`health.mounts[1].space_mode` needs `root_folders`"),
        "{e}"
    );
}

#[test]
fn notice_days_is_a_number_of_days_up_to_a_year() {
    let notice = |days: &str| format!("{MINIMAL}\n[rules]\nnotice_days = {days}\n");
    assert_eq!(
        parse(&notice("7")).expect("valid").config.rules.notice_days,
        7
    );
    assert_eq!(
        parse(&notice("365"))
            .expect("valid")
            .config
            .rules
            .notice_days,
        365
    );
    for bad in ["366", "-1", "1.5", "\"7\""] {
        let e = err(&notice(bad));
        assert!(e.contains("notice_days"), "{bad}: {e}");
    }
    let e = err(&notice("366"));
    assert!(
        e.contains("`rules.notice_days` must be a whole number of days from 0 to 365, not 366"),
        "{e}"
    );
    let shown = parse(&notice("7"))
        .expect("valid")
        .config
        .to_redacted_toml();
    assert!(
        shown.contains("\n[rules]\ngrace_days = 5\nnotice_days = 7\n"),
        "{shown}"
    );
}

/// `MINIMAL` with `[rules] notice_days` and what else `extra` holds.
fn with_notice(days: u32, extra: &str) -> String {
    format!("{MINIMAL}\n[rules]\nnotice_days = {days}\n\n{extra}\n")
}

#[test]
fn leaving_soon_names_the_collection_or_keeps_none() {
    let collection = |extra: &str| {
        parse(&with_notice(7, extra))
            .expect("valid")
            .config
            .leaving_soon
            .collection
    };
    assert_eq!(collection("").as_deref(), Some("Leaving Soon"));
    assert_eq!(
        collection("[leaving_soon]\ncollection = \"Last Chance\"\n").as_deref(),
        Some("Last Chance")
    );
    assert_eq!(collection("[leaving_soon]\nenabled = false\n"), None);
    let hundred = "é".repeat(100);
    assert_eq!(
        collection(&format!("[leaving_soon]\ncollection = \"{hundred}\"\n")),
        Some(hundred)
    );
    #[rustfmt::skip]
    let refused = [
        ("\"\"", "must not be empty"),
        ("\"   \"", "must not be empty"),
        ("\" Leaving Soon\"", "must not start or end with spaces"),
        ("\"Leaving Soon \"", "must not start or end with spaces"),
        ("\"Leaving\\tSoon\"", "must not hold control characters"),
        ("\"Leaving\\nSoon\"", "must not hold control characters"),
    ];
    for (name, says) in refused {
        let e = err(&with_notice(
            7,
            &format!("[leaving_soon]\ncollection = {name}\n"),
        ));
        assert!(
            e.contains(&format!("`leaving_soon.collection` {says}")),
            "{name}: {e}"
        );
    }
    let long = format!("[leaving_soon]\ncollection = \"{}\"\n", "x".repeat(101));
    assert!(err(&with_notice(7, &long)).contains("at most 100 characters"));
    // Checked even while it is off, so turning it on cannot break the config.
    let off = "[leaving_soon]\nenabled = false\ncollection = \"\"\n";
    assert!(err(&with_notice(7, off)).contains("`leaving_soon.collection`"));
    let e = err(&with_notice(7, "[leaving_soon]\ncolection = \"x\"\n"));
    assert!(
        e.contains("unknown key `colection` in [leaving_soon]")
            && e.contains("did you mean `collection`?"),
        "{e}"
    );
}

#[test]
fn leaving_soon_without_a_notice_period_warns() {
    let warned = |text: &str| {
        parse(text)
            .expect("valid")
            .warnings
            .iter()
            .any(|w| w.contains("[leaving_soon] is set, but [rules] notice_days is 0"))
    };
    let table = "[leaving_soon]\ncollection = \"Bye\"\n";
    assert!(warned(&format!("{MINIMAL}\n{table}")));
    assert!(warned(&with_notice(0, "[leaving_soon]\nenabled = true\n")));
    assert!(!warned(&with_notice(3, table)));
    assert!(!warned(MINIMAL));
    // An empty table, as a generated file writes it, sets nothing.
    assert!(!warned(&format!("{MINIMAL}\n[leaving_soon]\n")));
}

const NTFY: &str = "kind = \"ntfy\"\nurl = \"https://ntfy.example.org/shelflife\"\n";

#[test]
fn a_single_notify_table_is_one_target_named_after_its_kind() {
    for header in ["[notify]", "[[notify]]"] {
        let config = parse(&format!("{MINIMAL}\n{header}\n{NTFY}"))
            .expect("valid")
            .config;
        let [target] = config.notify.as_slice() else {
            panic!("one target: {:?}", config.notify);
        };
        assert_eq!(target.name, "ntfy");
        assert!(
            matches!(&target.via, Via::Ntfy { url, token: None } if url == "https://ntfy.example.org/shelflife"),
            "{:?}",
            target.via
        );
        assert_eq!(target.events, Event::ALL.to_vec(), "every event by default");
        assert_eq!(target.timeout, Duration::from_secs(10));
    }
    let command = parse(&format!(
        "{MINIMAL}\n[notify]\nkind = \"command\"\ncommand = [\"apprise\", \"-b\", \"\"]\n"
    ))
    .expect("valid")
    .config;
    assert_eq!(command.notify[0].name, "command");
    assert!(
        matches!(&command.notify[0].via, Via::Command { argv } if argv == &["apprise", "-b", ""]),
        "{:?}",
        command.notify[0].via
    );
    let webhook = parse(&format!(
        "{MINIMAL}\n[notify]\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9000/hook\"\n"
    ))
    .expect("valid")
    .config;
    assert_eq!(webhook.notify[0].name, "webhook");
    assert!(matches!(
        &webhook.notify[0].via,
        Via::Webhook { token: None, .. }
    ));
    // As a generated file may write "no targets".
    let none = parse(&format!("notify = []\n{MINIMAL}"))
        .expect("valid")
        .config;
    assert!(none.notify.is_empty());
}

#[test]
fn several_notify_targets_each_have_a_name_and_their_own_settings() {
    let text = format!(
        "{MINIMAL}\n[[notify]]\nname = \"phone\"\n{NTFY}events = [\"scheduled\", \"failed\", \"scheduled\"]\n\
         timeout = \"1m\"\n\n[[notify]]\nname = \"mail-2\"\nkind = \"command\"\ncommand = [\"/usr/bin/apprise\"]\n\
         events = [\"deleted\"]\n"
    );
    let config = parse(&text).expect("valid").config;
    let targets: Vec<_> = config
        .notify
        .iter()
        .map(|t| (t.name.as_str(), t.events.clone(), t.timeout))
        .collect();
    assert_eq!(
        targets,
        [
            (
                "phone",
                vec![Event::Scheduled, Event::Failed],
                Duration::from_secs(60)
            ),
            ("mail-2", vec![Event::Deleted], Duration::from_secs(10)),
        ]
    );

    let two = |first: &str, second: &str| {
        format!("{MINIMAL}\n[[notify]]\n{first}{NTFY}\n[[notify]]\n{second}{NTFY}")
    };
    let e = err(&two("", ""));
    assert!(
        e.contains("`notify[1].name` is required when there are several [[notify]] targets"),
        "{e}"
    );
    let e = err(&two("name = \"a\"\n", "name = \"a\"\n"));
    assert!(
        e.contains("`notify[2].name` \"a\" names two notify targets"),
        "{e}"
    );
    let e = err(&two("name = \"a-b\"\n", "name = \"a_b\"\n"));
    assert!(
        e.contains("would share the token variable $SHELFLIFE_NOTIFY_A_B_TOKEN"),
        "{e}"
    );
    for bad in ["Phone", "my phone", "", "-x", "../x", &"x".repeat(33)] {
        let e = err(&two(&format!("name = {bad:?}\n"), "name = \"b\"\n"));
        assert!(
            e.contains("`notify[1].name` must be 1 to 32"),
            "{bad:?}: {e}"
        );
    }
    let e = err(&two("name = \"a\"\n", "name = \"b\"\nurll = \"x\"\n"));
    assert!(
        e.contains("unknown key `urll` in [[notify]]") && e.contains("did you mean `url`?"),
        "{e}"
    );
    let e = err(&format!("{MINIMAL}\n[notify]\n{NTFY}evnts = []\n"));
    assert!(
        e.contains("unknown key `evnts` in [notify]") && e.contains("did you mean `events`?"),
        "{e}"
    );
    let e = err(&format!("notify = \"ntfy\"\n{MINIMAL}"));
    assert!(e.contains("table or an array of tables"), "{e}");
}

#[test]
fn notify_values_are_checked_and_named() {
    let one = |body: &str| format!("{MINIMAL}\n[[notify]]\nname = \"t\"\n{body}\n");
    #[rustfmt::skip]
    let refused = [
        ("url = \"https://n\"", "`notify[1].kind` is required: \"webhook\", \"ntfy\" or \"command\""),
        ("kind = \"email\"", "`notify[1].kind` must be \"webhook\", \"ntfy\" or \"command\", not \"email\""),
        ("kind = \"ntfy\"", "`notify[1].url` is required for a ntfy target"),
        ("kind = \"webhook\"", "`notify[1].url` is required for a webhook target"),
        ("kind = \"webhook\"\nurl = \"ntfy.sh/x\"", "`notify[1].url` must be an http:// or https:// URL"),
        ("kind = \"ntfy\"\nurl = \"ftp://n/x\"", "`notify[1].url` must be an http:// or https:// URL"),
        ("kind = \"command\"\ncommand = [\"a\"]\nurl = \"http://n\"", "`notify[1].url` is for webhook and ntfy targets"),
        ("kind = \"command\"", "`notify[1].command` is required for a command target"),
        ("kind = \"command\"\ncommand = []", "`notify[1].command` is required for a command target"),
        ("kind = \"command\"\ncommand = [\" \", \"x\"]", "`notify[1].command` must start with the program"),
        ("kind = \"command\"\ncommand = [\"a\", \"b\\u0000\"]", "`notify[1].command` must not hold a NUL"),
        ("kind = \"command\"\ncommand = \"apprise -b x\"", "command"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ncommand = [\"a\"]", "`notify[1].command` is for command targets"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\nevents = []", "`notify[1].events` must name at least one event"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\nevents = [\"deleted\", \"sheduled\"]",
            "`notify[1].events` has an unknown event \"sheduled\"; the events are \"scheduled\", \"deleted\", \"paused\", \"failed\""),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ntimeout = \"500ms\"", "`notify[1].timeout` must be between 1s and 5m, not 500ms"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ntimeout = \"6m\"", "`notify[1].timeout` must be between 1s and 5m"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ntimeout = \"soon\"", "`notify[1].timeout` is not a duration"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ntimeout = \"0s\"", "`notify[1].timeout` must be longer than zero"),
        ("kind = \"command\"\ncommand = [\"a\"]\ntoken = \"x\"", "`notify[1].token` is for webhook and ntfy targets"),
        ("kind = \"command\"\ncommand = [\"a\"]\ntoken_file = \"/x\"", "`notify[1].token_file` is for webhook and ntfy targets"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ntoken = \"x\"\ntoken_file = \"/x\"", "`notify[1].token` and token_file are both set"),
        ("kind = \"webhook\"\nurl = \"http://n\"\ntoken = \" \"", "`notify[1].token` from inline notify[1].token is empty"),
        ("kind = \"ntfy\"\nurl = \"http://n\"\ntoken_file = \"/nonexistent/t\"",
            "cannot read the token of notify target t from /nonexistent/t"),
    ];
    for (body, says) in refused {
        let e = err(&one(body));
        assert!(
            e.starts_with("/etc/shelflife/config.toml: ") && e.contains(says),
            "{body}: {e}"
        );
    }
    // The bounds themselves are allowed.
    for timeout in ["1s", "5m"] {
        let body = format!("kind = \"ntfy\"\nurl = \"http://n\"\ntimeout = \"{timeout}\"");
        assert!(parse(&one(&body)).is_ok(), "{timeout}");
    }
    // A single table's key is `notify.…`.
    let e = err(&format!("{MINIMAL}\n[notify]\nkind = \"ntfy\"\n"));
    assert!(e.contains("`notify.url` is required"), "{e}");
}

fn notify_token(text: &str, env: &Env) -> Result<Option<(String, String)>, ConfigError> {
    let config = Config::parse(text, Path::new("c.toml"), env)?.config;
    let token = match &config.notify[0].via {
        Via::Webhook { token, .. } | Via::Ntfy { token, .. } => token.clone(),
        Via::Command { .. } => None,
    };
    let shown = config.to_redacted_toml();
    Ok(token.map(|t| {
        let line = shown
            .lines()
            .find(|l| l.starts_with("token = "))
            .unwrap_or_default()
            .to_owned();
        (t.expose().to_owned(), line)
    }))
}

#[test]
fn a_notify_token_comes_from_the_first_source_that_has_one_or_there_is_none() {
    let dir = tempfile::tempdir().expect("tempdir");
    let token_file = dir.path().join("phone.token");
    std::fs::write(&token_file, "from-file\n").expect("write");
    let creds = dir.path().join("creds");
    std::fs::create_dir(&creds).expect("mkdir");
    std::fs::write(creds.join("notify-phone"), "from-credential").expect("write");
    let credstore = dir.path().join("credstore");
    std::fs::create_dir(&credstore).expect("mkdir");
    std::fs::write(credstore.join("shelflife.notify-phone"), "from-credstore\n").expect("write");
    let creds_str = creds.display().to_string();
    let pairs = [
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("CREDENTIALS_DIRECTORY", creds_str.as_str()),
        ("SHELFLIFE_NOTIFY_PHONE_TOKEN", "from-env"),
    ];
    let env = |n: usize| Env::from_pairs(pairs.into_iter().take(n)).with_credstore(&credstore);
    let text = |extra: &str| format!("{JF_ONLY}\n[[notify]]\nname = \"phone\"\n{NTFY}{extra}");
    let token = |extra: &str, env: &Env| notify_token(&text(extra), env).expect("valid");
    let redacted = |origin: &str| format!("token = \"<redacted: from {origin}>\"");

    assert_eq!(
        token(&format!("token = \"{KEY}\"\n"), &env(3)),
        Some((KEY.to_owned(), redacted("inline notify[1].token")))
    );
    let file = format!("token_file = \"{}\"\n", token_file.display());
    assert_eq!(
        token(&file, &env(3)),
        Some((
            "from-file".to_owned(),
            redacted(&token_file.display().to_string())
        ))
    );
    assert_eq!(
        token("", &env(3)),
        Some((
            "from-credential".to_owned(),
            redacted(&creds.join("notify-phone").display().to_string())
        ))
    );
    let no_credential = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_NOTIFY_PHONE_TOKEN", "from-env"),
    ])
    .with_credstore(&credstore);
    assert_eq!(
        token("", &no_credential),
        Some((
            "from-env".to_owned(),
            redacted("$SHELFLIFE_NOTIFY_PHONE_TOKEN")
        ))
    );
    assert_eq!(
        token("", &env(1)),
        Some((
            "from-credstore".to_owned(),
            redacted(
                &credstore
                    .join("shelflife.notify-phone")
                    .display()
                    .to_string()
            )
        ))
    );
    // Nowhere: no token, which is no error (a server may want none).
    let bare = Env::from_pairs([("SHELFLIFE_JELLYFIN_API_KEY", KEY)]);
    assert_eq!(token("", &bare), None);
    let shown = Config::parse(&text(""), Path::new("c.toml"), &bare)
        .expect("valid")
        .config
        .to_redacted_toml();
    assert!(shown.contains("# no token"), "{shown}");
    // A command target looks for none, even where one lies ready.
    let command = format!(
        "{JF_ONLY}\n[[notify]]\nname = \"phone\"\nkind = \"command\"\ncommand = [\"true\"]\n"
    );
    assert_eq!(notify_token(&command, &env(3)).expect("valid"), None);
}

#[test]
fn notice_and_notify_settings_show_without_their_tokens() {
    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
        ("SHELFLIFE_NOTIFY_HOOK_TOKEN", KEY),
    ]);
    let text = with_notice(
        3,
        "[leaving_soon]\ncollection = \"Last \\\"Chance\\\"\"\n\n\
         [[notify]]\nname = \"phone\"\nkind = \"ntfy\"\nurl = \"https://ntfy.example.org/s\"\n\
         token = \"tk_inline_secret\"\nevents = [\"failed\"]\n\n\
         [[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9000/h\"\ntimeout = \"90s\"\n\n\
         [[notify]]\nname = \"apprise\"\nkind = \"command\"\ncommand = [\"apprise\", \"-t\", \"a \\\"b\\\"\", \"mailtos://u:pw-secret@mail.example.org\"]\n",
    );
    let config = Config::parse(&text, Path::new("/etc/shelflife/config.toml"), &env)
        .expect("valid")
        .config;
    let shown = config.to_redacted_toml();
    assert!(!shown.contains("pw-secret"), "{shown}");
    for secret in [KEY, "tk_inline_secret"] {
        assert!(!shown.contains(secret), "{shown}");
        assert!(!format!("{config:?}").contains(secret), "{config:?}");
    }
    #[rustfmt::skip]
    let expected = [
        "\n[leaving_soon]\nenabled = true\ncollection = 'Last \"Chance\"'\n",
        "\n[[notify]]\nname = \"phone\"\nkind = \"ntfy\"\nurl = \"https://ntfy.example.org/<redacted>\"\nevents = [\"failed\"]\n\
         timeout = \"10s\"\ntoken = \"<redacted: from inline notify[1].token>\"\n",
        "\n[[notify]]\nname = \"hook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9000/<redacted>\"\n\
         events = [\"scheduled\", \"deleted\", \"paused\", \"failed\"]\ntimeout = \"1m 30s\"\n\
         token = \"<redacted: from $SHELFLIFE_NOTIFY_HOOK_TOKEN>\"\n",
        "\n[[notify]]\nname = \"apprise\"\nkind = \"command\"\ncommand = [\"apprise\", \"-t\", 'a \"b\"', \"mailtos://u:redacted@mail.example.org\"]\n\
         events = [\"scheduled\", \"deleted\", \"paused\", \"failed\"]\ntimeout = \"10s\"\n",
    ];
    for part in expected {
        assert!(shown.contains(part), "{part}\nnot in\n{shown}");
    }
    // What `config show` prints loads back to the same settings (the tokens, now inline, aside).
    let again = Config::parse(&shown, Path::new("/etc/shelflife/config.toml"), &env)
        .expect("config show reads back")
        .config;
    assert_eq!(again.leaving_soon, config.leaving_soon);
    assert_eq!(again.rules, config.rules);
    let settings = |c: &Config| -> Vec<String> {
        c.notify
            .iter()
            .map(|t| format!("{} {:?} {:?}", t.name, t.events, t.timeout))
            .collect()
    };
    assert_eq!(settings(&again), settings(&config));

    let off = with_notice(3, "[leaving_soon]\nenabled = false\n");
    let shown = parse(&off).expect("valid").config.to_redacted_toml();
    assert!(
        shown.contains("\n[leaving_soon]\nenabled = false\n"),
        "{shown}"
    );
    assert!(
        shown.contains("# [[notify]] is not configured: no notifications"),
        "{shown}"
    );
    let unused = parse(MINIMAL).expect("valid").config.to_redacted_toml();
    assert!(
        unused.contains("[leaving_soon]\n# unused while [rules] notice_days is 0\nenabled = true\ncollection = \"Leaving Soon\"\n"),
        "{unused}"
    );
}

#[test]
fn world_readable_inline_token_warns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    let text = format!("{JF_ONLY}[notify]\n{NTFY}token = \"tk_secret\"\n");
    std::fs::write(&path, text).expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let env = Env::from_pairs([("SHELFLIFE_JELLYFIN_API_KEY", KEY)]);
    let loaded = Config::load(&path, &env).expect("valid");
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("holds an inline token")
                && w.contains("use token_file")
                && w.contains("chmod 600")),
        "{:?}",
        loaded.warnings
    );
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let loaded = Config::load(&path, &env).expect("valid");
    assert!(!loaded.warnings.iter().any(|w| w.contains("inline token")));
}

#[test]
fn an_arr_may_not_take_a_notify_targets_credential() {
    let e = err(&MINIMAL.replace("[radarr]\n", "[radarr]\nname = \"notify-phone\"\n"));
    assert!(
        e.contains("`radarr.name` must not start with `notify-`"),
        "{e}"
    );
}

#[test]
fn the_examples_commented_out_notice_notify_and_seerr_tables_are_valid() {
    // Uncomment what reads as TOML between `[leaving_soon]` and the next real table.
    let start = EXAMPLE
        .find("# [leaving_soon]")
        .expect("the example shows [leaving_soon]");
    let end = start + EXAMPLE[start..].find("\n[").expect("a table follows");
    let block: String = EXAMPLE[start..end]
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| {
            l.starts_with('[') || toml::from_str::<toml::Table>(l).is_ok_and(|t| !t.is_empty())
        })
        .map(|l| format!("{l}\n"))
        .collect();
    let text = with_notice(3, &block);
    let config = parse(&text)
        .unwrap_or_else(|e| panic!("{e}\n{block}"))
        .config;
    assert_eq!(
        config.leaving_soon.collection.as_deref(),
        Some("Leaving Soon")
    );
    let names: Vec<&str> = config.notify.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["phone", "mail"], "{block}");
    assert!(matches!(&config.notify[1].via, Via::Command { argv } if argv[0] == "apprise"));
    assert_eq!(
        config.seerr.as_ref().map(|s| s.url.as_str()),
        Some("http://127.0.0.1:5055"),
        "{block}"
    );
}

#[test]
fn seerr_is_optional_and_read_with_its_key_and_limits() {
    let none = parse(MINIMAL).expect("valid").config;
    assert!(none.seerr.is_none());
    assert!(none
        .to_redacted_toml()
        .contains("# [seerr] is not configured: left alone"));

    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
        ("SHELFLIFE_SEERR_API_KEY", "seerr-secret-key"),
    ]);
    let text = format!(
        "{MINIMAL}\n[seerr]\nurl = \"http://127.0.0.1:5055\"\nlist_timeout = \"2m\"\n\
         request_protection_days = 14\nkeep_until_requester_watched = true\n"
    );
    let config = Config::parse(&text, Path::new("c.toml"), &env)
        .expect("valid")
        .config;
    let seerr = config.seerr.as_ref().expect("[seerr]");
    assert_eq!(seerr.url, "http://127.0.0.1:5055");
    assert_eq!(seerr.api_key.expose(), "seerr-secret-key");
    assert_eq!(seerr.http.list_timeout, Duration::from_secs(120));
    assert_eq!(seerr.request_protection_days, 14);
    assert!(seerr.keep_until_requester_watched);
    let shown = config.to_redacted_toml();
    assert!(!shown.contains("seerr-secret-key"), "{shown}");
    assert!(
        shown.contains("\n[seerr]\nurl = \"http://127.0.0.1:5055\"\napi_key = \"<redacted: from $SHELFLIFE_SEERR_API_KEY>\"\nrequest_protection_days = 14\nkeep_until_requester_watched = true\ntimeout = "),
        "{shown}"
    );
    let again = Config::parse(&shown, Path::new("c.toml"), &env).expect("show reads back");
    let again = again.config.seerr.expect("[seerr]");
    assert_eq!(again.http, seerr.http);
    assert_eq!(again.request_protection_days, 14);
    assert!(again.keep_until_requester_watched);
    let plain = format!("{MINIMAL}\n[seerr]\nurl = \"http://127.0.0.1:5055\"\n");
    let plain = Config::parse(&plain, Path::new("c.toml"), &env)
        .expect("valid")
        .config;
    let plain = plain.seerr.expect("[seerr]");
    assert_eq!(plain.request_protection_days, 0, "off by default");
    assert!(!plain.keep_until_requester_watched, "off by default");
}

#[test]
fn seerr_mistakes_are_named() {
    let env = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
        ("SHELFLIFE_SEERR_API_KEY", KEY),
    ]);
    let err = |body: &str| {
        let text = format!("{MINIMAL}\n[seerr]\n{body}\n");
        match Config::parse(&text, Path::new("c.toml"), &env) {
            Ok(_) => panic!("accepted: {body}"),
            Err(e) => e.to_string(),
        }
    };
    assert!(err("").contains("`seerr.url` is required"), "{}", err(""));
    let e = err("url = \"http://s\"\nrequest_protection_days = 400");
    assert!(e.contains("`seerr.request_protection_days` must be"), "{e}");
    let e = err("url = \"http://s\"\nrequest_protection_days = -1");
    assert!(e.contains("from 0 to 365, not -1"), "{e}");
    let e = err("url = \"http://s\"\nretries = 11");
    assert!(
        e.contains("`seerr.retries` must be between 0 and 10"),
        "{e}"
    );
    let e = err("url = \"http://s\"\nlist_timout = \"1m\"");
    assert!(e.contains("did you mean `list_timeout`"), "{e}");
    let e = err("url = \"not a url\"");
    assert!(e.contains("seerr.url"), "{e}");
    // No key anywhere: the places looked are named.
    let bare = Env::from_pairs([
        ("SHELFLIFE_JELLYFIN_API_KEY", KEY),
        ("SHELFLIFE_RADARR_API_KEY", KEY),
    ]);
    let text = format!("{MINIMAL}\n[seerr]\nurl = \"http://s:5055\"\n");
    let e = match Config::parse(&text, Path::new("c.toml"), &bare) {
        Ok(_) => panic!("accepted without a key"),
        Err(e) => e.to_string(),
    };
    assert!(e.contains("SHELFLIFE_SEERR_API_KEY"), "{e}");
}
