# NixOS module for shelflife: the nightly pass (shelflife.service + shelflife.timer) and the
# optional storage monitor, mirroring the units in ../systemd.
#
# Secrets never go in `settings`: the generated config sits in the world-readable Nix store. API
# keys come through `credentialFiles` → LoadCredential=, and shelflife reads
# $CREDENTIALS_DIRECTORY/<name> when the config names no key: `jellyfin`, and each *arr
# instance's name (`radarr` and `sonarr` for a single table). A notify target's token, when it
# needs one, is the credential `notify-<name>`.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib) mkOption types;
  cfg = config.services.shelflife;
  settingsFormat = pkgs.formats.toml { };
  arrs = [
    "radarr"
    "sonarr"
  ];

  # The sandbox is systemd/hardening.conf, the one list the shipped units carry too; reading it
  # here keeps the module from drifting (tests/nix_module.rs checks that no key is copied in).
  # `Key=Value` per line, `#` comments. A key that repeats (SystemCallFilter) becomes a list,
  # which NixOS writes back as repeated lines. mkDefault: a host may relax one key, as the README's
  # drop-ins do (ProtectHome=read-only for media under /home, PrivateDevices=no for ZFS).
  hardening =
    let
      lines = lib.splitString "\n" (builtins.readFile ../systemd/hardening.conf);
      skip = line: builtins.match "[[:space:]]*(#.*)?" line != null;
      parse =
        line:
        let
          m = builtins.match "[[:space:]]*([A-Za-z]+)=(.*[^[:space:]])?[[:space:]]*" line;
        in
        if m == null then
          throw "systemd/hardening.conf: not a Key=Value line: ${line}"
        else
          {
            name = builtins.elemAt m 0;
            value = toString (builtins.elemAt m 1); # null (empty value, `CapabilityBoundingSet=`) → ""
          };
      byKey = lib.groupBy (a: a.name) (map parse (builtins.filter (l: !skip l) lines));
    in
    lib.mapAttrs (
      _: assignments:
      let
        values = map (a: a.value) assignments;
      in
      lib.mkDefault (if builtins.length values == 1 then builtins.head values else values)
    ) byKey;

  # A typed key: null (the default) leaves it out of the file, so shelflife's own default holds
  # and is documented in one place (src/config/example.toml).
  opt =
    type: description:
    mkOption {
      type = types.nullOr type;
      default = null;
      inherit description;
    };
  # A key an entry cannot do without.
  req = type: description: mkOption { inherit type description; };
  # A table of the file: its typed keys, and any other key passed through as is (freeform), so a
  # key that a newer shelflife knows works before this module learns it.
  table =
    options:
    types.submodule {
      freeformType = settingsFormat.type;
      inherit options;
    };

  # BEGIN typed settings
  # The config file's keys, table by table, in shelflife's names: `top` is the top level,
  # "health.mounts" an entry of [[health.mounts]]. tests/nix_module.rs compares these names with
  # shelflife::config::schema(), so keep the shape: `<table> = {` … `};` and one
  # `<key> = opt|req …;` per line. api_key and api_key_file are left out on purpose (see
  # `credentialFiles` and the assertions), and so are a notify target's token and token_file.
  typed = {
    top = {
      dry_run = opt types.bool "Plan and log only, delete nothing. shelflife's default is true; set false to delete.";
    };
    jellyfin = {
      url = opt types.str "Where Jellyfin answers, e.g. http://127.0.0.1:8096.";
      users = opt (types.listOf types.str) "Jellyfin users whose watched state counts.";
      watched_by = opt (types.enum [ "any" "all" ]) "Watched when any of `users` played it, or only when all did.";
      timeout = opt types.str "Deadline of one small request or write, e.g. \"30s\".";
      list_timeout = opt types.str "Deadline for the first byte of a big list, e.g. \"3m\" (a Pi builds big lists slowly).";
      connect_timeout = opt types.str "Deadline for connecting, e.g. \"5s\".";
      retries = opt (types.ints.between 0 10) "Extra attempts after a transient failure (a list is retried once).";
    };
    radarr = {
      name = opt types.str "The instance's name when there are several (HD and 4K): it names its credential. Default: radarr.";
      url = opt types.str "Where Radarr answers, e.g. http://127.0.0.1:7878.";
      add_import_exclusion = opt types.bool "Also add deleted movies to Radarr's import exclusions.";
      timeout = opt types.str "Deadline of one small request or write, e.g. \"30s\".";
      list_timeout = opt types.str "Deadline for the first byte of a big list, e.g. \"3m\" (a Pi builds big lists slowly).";
      connect_timeout = opt types.str "Deadline for connecting, e.g. \"5s\".";
      retries = opt (types.ints.between 0 10) "Extra attempts after a transient failure (a list is retried once).";
    };
    sonarr = {
      name = opt types.str "The instance's name when there are several (TV and anime): it names its credential. Default: sonarr.";
      url = opt types.str "Where Sonarr answers, e.g. http://127.0.0.1:8989.";
      timeout = opt types.str "Deadline of one small request or write, e.g. \"30s\".";
      list_timeout = opt types.str "Deadline for the first byte of a big list, e.g. \"3m\" (a Pi builds big lists slowly).";
      connect_timeout = opt types.str "Deadline for connecting, e.g. \"5s\".";
      retries = opt (types.ints.between 0 10) "Extra attempts after a transient failure (a list is retried once).";
    };
    rules = {
      grace_days = opt types.ints.unsigned "Whole days after the last play before an item may go.";
      notice_days = opt (types.ints.between 0 365) "Whole days an item is announced (the leaving_soon collection, a scheduled notification) before it goes; shelflife's default is 0 (it goes as soon as it is eligible).";
      keep_tags = opt (types.listOf types.str) "Radarr/Sonarr tags (case-insensitive) that keep a movie or a whole series.";
      keep_favorites = opt types.bool "Keep a favourite of any counted user.";
      keep_lossless = opt types.bool "Keep files whose main audio track is lossless (TrueHD, DTS-HD MA, DTS:X, FLAC, PCM): a lossy download could not bring it back. shelflife's default is false.";
      series_mode = opt (types.enum [ "episode" "season" "hybrid" ]) "How TV goes: by episode, by whole season, or ended series by season and continuing ones by episode.";
      partial_season_threshold = opt (types.numbers.between 0 1) "Share of a season's episodes that must be watched before the season goes whole.";
      protect_latest_season = opt types.bool "Never touch the newest season of a series still airing.";
      max_deletions_per_run = opt types.ints.unsigned "A plan that would delete more files than this is refused whole.";
      copies = opt (types.enum [ "together" "separate" ]) "The same movie in two Radarrs: watched together (either copy watches both), or each copy on its own.";
    };
    leaving_soon = {
      enabled = opt types.bool "While rules.notice_days is above 0, gather the items due to go in a Jellyfin collection; shelflife's default is true.";
      collection = opt types.str "The collection's name (at most 100 characters). Default: Leaving Soon.";
    };
    notify = {
      name = opt types.str "The target's name (lowercase letters, digits, `-`, `_`), required when there are several; it names the token's credential, credentialFiles.\"notify-<name>\". Default, for a single target: its kind.";
      kind = req (types.enum [ "webhook" "ntfy" "command" ]) "How the events go out: a JSON POST to a webhook, an ntfy topic, or a command.";
      url = opt types.str "webhook and ntfy: where to post, e.g. https://ntfy.sh/my-shelflife.";
      command = opt (types.listOf types.str) "command: the program and its arguments, run without a shell; give the program by its store path, e.g. [ \"\${pkgs.apprise}/bin/apprise\" … ].";
      events = opt (types.listOf (types.enum [ "scheduled" "deleted" "paused" "failed" ])) "The events it gets. Default: all four.";
      timeout = opt types.str "How long one notification may take, 1s to 5m. Default: 10s.";
    };
    seerr = {
      url = opt types.str "Where Seerr (or Jellyseerr) answers, e.g. http://127.0.0.1:5055. Its key goes in credentialFiles.seerr.";
      timeout = opt types.str "Deadline of one small request or write, e.g. \"30s\".";
      list_timeout = opt types.str "Deadline for the first byte of a page of requests or media, e.g. \"3m\".";
      connect_timeout = opt types.str "Deadline for connecting, e.g. \"5s\".";
      retries = opt (types.ints.between 0 10) "Extra attempts after a transient failure (a list is retried once).";
      request_protection_days = opt (types.ints.between 0 365) "Keep anything requested in Seerr fewer than this many days ago; shelflife's default is 0 (off).";
      keep_until_requester_watched = opt types.bool "Keep a requested title until the Jellyfin user who requested it (matched by Seerr's Jellyfin user id, then by name) has watched it; shelflife's default is false.";
    };
    path_map = {
      jellyfin = req types.str "A path prefix as Jellyfin sees it.";
      arr = req types.str "The same prefix as Radarr/Sonarr see it.";
    };
    health = {
      interval = opt types.str "The monitor's time between check rounds, e.g. \"60s\".";
      require_healthy_for = opt types.str "A pass proceeds only when the monitor has seen the storage fit this long, e.g. \"10m\" (needs monitor.enable).";
      on_degraded_array = opt (types.enum [ "pause" "proceed" ]) "What a degraded array does to a pass.";
      on_low_space = opt (types.enum [ "pause" "proceed" ]) "What low free space or inodes do to a pass.";
      mdstat = opt types.str "Where md array state is read.";
      zpool = opt types.str "The zpool command (a missing one means no ZFS).";
      btrfs_sysfs = opt types.str "Where btrfs state is read.";
    };
    "health.mounts" = {
      path = req types.str "The mount point (or a directory inside the mount).";
      fstype = opt types.str "The filesystem type it must have, e.g. \"nfs4\".";
      canary = opt types.str "A file inside the mount that must exist (catches an empty mount point).";
      timeout = opt types.str "A probe slower than this counts as unhealthy, e.g. \"5s\".";
      allow_readonly = opt types.bool "Accept a read-only filesystem.";
      min_free_percent = opt (types.numbers.between 0 100) "Free space or inodes below this share: degraded.";
      min_free_bytes = opt (types.either types.ints.unsigned types.str) "Free space below this: degraded, e.g. \"50GB\".";
      root_folders = opt (types.listOf types.str) "The Radarr/Sonarr root folders (as the *arrs see them) whose files lie on this mount, e.g. [ \"/movies\" ].";
      space_mode = opt (types.enum [ "always" "when_low" ]) "\"when_low\": delete the mount's files only while it is below its target, oldest-watched first, and no further.";
      target_free_percent = opt (types.numbers.between 0 100) "With space_mode = \"when_low\": the free share to keep.";
      target_free_bytes = opt (types.either types.ints.unsigned types.str) "With space_mode = \"when_low\": the free bytes to keep, e.g. \"200GB\".";
    };
    "health.mounts.grace_tiers" = {
      below_free_percent = req (types.numbers.between 0 100) "Below this share of free space on the mount…";
      grace_days = req types.ints.unsigned "…its files go this many days after their last play (when shorter than rules.grace_days).";
    };
    state = {
      path = opt types.str "The state database. Leave unset: it goes to the StateDirectory, /var/lib/shelflife.";
    };
    metrics = {
      textfile = opt types.str "Prometheus textfile; set through services.shelflife.metricsFile.";
    };
  };
  # END typed settings

  # One *arr: null (left alone), one table ([radarr]), a list of tables ([[radarr]], each with a
  # `name`), or an attrset of tables by name (written as that list, the names filled in).
  arrOption =
    arr: description:
    let
      instance = table typed.${arr};
      # An attrset whose values are all attrsets is a set of instances; a single table's values
      # are strings, numbers, booleans and nulls.
      isByName = v: builtins.isAttrs v && v != { } && builtins.all builtins.isAttrs (builtins.attrValues v);
      byName = types.addCheck (types.attrsOf instance) isByName;
    in
    mkOption {
      type = types.nullOr (types.oneOf [
        (types.listOf instance)
        byName
        instance
      ]);
      default = null;
      apply = v: if isByName v then lib.mapAttrsToList (name: value: value // { inherit name; }) v else v;
      inherit description;
    };

  settingsType = table (
    typed.top
    // {
      jellyfin = mkOption {
        type = table typed.jellyfin;
        default = { };
        description = "The Jellyfin server whose watched state counts (required: url and users).";
      };
      radarr = arrOption "radarr" "Radarr: one table, or several instances as a list (each with a `name`) or an attrset by name; null leaves movies alone.";
      sonarr = arrOption "sonarr" "Sonarr: one table, or several instances as a list (each with a `name`) or an attrset by name; null leaves TV alone.";
      rules = mkOption {
        type = table typed.rules;
        default = { };
        description = "The retention rules.";
      };
      leaving_soon = mkOption {
        type = table typed.leaving_soon;
        default = { };
        description = "The Jellyfin collection of the items due to go (while rules.notice_days is above 0).";
      };
      notify = mkOption {
        type = types.listOf (table typed.notify);
        default = [ ];
        description = ''
          Where the events of a pass go (scheduled, deleted, paused, failed). A token goes in
          credentialFiles."notify-<name>", never here.
        '';
      };
      seerr = mkOption {
        type = types.nullOr (table typed.seerr);
        default = null;
        description = "Seerr (Jellyseerr): cleaned up after each deletion so that the title can be requested again; null leaves it alone. Its key goes in credentialFiles.seerr.";
      };
      path_map = mkOption {
        type = types.listOf (table typed.path_map);
        default = [ ];
        description = "Path prefixes that differ between Jellyfin and the *arrs.";
      };
      health = mkOption {
        type = table (
          typed.health
          // {
            mounts = mkOption {
              type = types.listOf (
                table (
                  typed."health.mounts"
                  // {
                    grace_tiers = mkOption {
                      type = types.nullOr (types.listOf (table typed."health.mounts.grace_tiers"));
                      default = null;
                      description = "Shorter grace periods for the mount's files while its free space is low (needs root_folders).";
                    };
                  }
                )
              );
              default = [ ];
              description = "Storage that must be healthy before anything is deleted.";
            };
          }
        );
        default = { };
        description = "Storage checks.";
      };
      state = mkOption {
        type = table typed.state;
        default = { };
        description = "The state database.";
      };
      metrics = mkOption {
        type = table typed.metrics;
        default = { };
        description = "Prometheus metrics.";
      };
    }
  );

  # Unset typed keys are null; TOML has no null, and leaving them out keeps shelflife's defaults.
  withoutNulls =
    value:
    if builtins.isAttrs value then
      lib.mapAttrs (_: withoutNulls) (lib.filterAttrs (_: v: v != null) value)
    else if builtins.isList value then
      map withoutNulls value
    else
      value;

  # The generated file, checked by shelflife itself while the system is built, so a bad value
  # fails the rebuild instead of the nightly pass. `config check` insists on a key per configured
  # service: the dummies stand in for the real ones, which arrive at run time as credentials.
  configFile =
    let
      generated = settingsFormat.generate "shelflife.toml" (withoutNulls cfg.settings);
      keyVariable = name: "SHELFLIFE_${lib.toUpper (builtins.replaceStrings [ "-" ] [ "_" ] name)}_API_KEY";
    in
    pkgs.runCommand "shelflife-config.toml" (
      {
        inherit generated;
      }
      // lib.genAttrs (map keyVariable configured) (
        _: "build-time-dummy"
      )
    )
      ''
        ${lib.getExe cfg.package} --log-format text --config "$generated" config check
        cp "$generated" "$out"
      '';

  # Every configured *arr instance: its name (its credential's), where it sits in `settings`, and
  # its table.
  instances = lib.concatMap (
    arr:
    let
      value = cfg.settings.${arr};
      entry = where: table: {
        name = if table.name or null == null then arr else table.name;
        inherit where table;
      };
    in
    if value == null then
      [ ]
    else if builtins.isList value then
      lib.imap1 (i: table: entry "settings.${arr}[${toString i}]" table) value
    else
      [ (entry "settings.${arr}" value) ]
  ) arrs;
  # Seerr, when it is configured, as an entry like an instance's.
  seerrEntry = lib.optional (cfg.settings.seerr != null) {
    name = "seerr";
    where = "settings.seerr";
    table = cfg.settings.seerr;
  };
  # The credentials the config needs: Jellyfin's, each instance's and Seerr's.
  configured = [ "jellyfin" ] ++ map (i: i.name) (instances ++ seerrEntry);
  # Every notify target: its name as shelflife gives it (a single one may leave it out: its kind),
  # where it sits in `settings`, and its table.
  notifyTargets = lib.imap1 (i: table: {
    name =
      if table.name or null != null then
        table.name
      else if builtins.length cfg.settings.notify == 1 then
        table.kind
      else
        null; # shelflife refuses it (config check, at build time)
    where = "settings.notify[${toString i}]";
    inherit table;
  }) cfg.settings.notify;
  # The credentials the targets may take a token from; a target needs none.
  notifyCredentials = map (t: "notify-${t.name}") (builtins.filter (t: t.name != null) notifyTargets);
  inlineSecrets =
    lib.concatMap
      (
        { where, table, ... }:
        map (k: "${where}.${k}") (
          builtins.filter (k: table ? ${k}) [
            "api_key"
            "api_key_file"
          ]
        )
      )
      ([ { where = "settings.jellyfin"; table = cfg.settings.jellyfin; } ] ++ instances ++ seerrEntry)
    ++ lib.concatMap (
      { where, table, ... }:
      map (k: "${where}.${k}") (
        builtins.filter (k: table ? ${k}) [
          "token"
          "token_file"
        ]
      )
    ) notifyTargets;
  credentials = lib.filterAttrs (_: path: path != null) cfg.credentialFiles;

  # ProtectSystem=strict leaves only the state and runtime directories writable; a metrics file or
  # state database put elsewhere needs its directory let in.
  writableDirs = map dirOf (
    builtins.filter (
      p: p != null && !lib.hasPrefix "/run/shelflife/" p && !lib.hasPrefix "/var/lib/shelflife/" p
    ) [
      cfg.settings.metrics.textfile
      cfg.settings.state.path
    ]
  );

  # What the pass and the monitor share: one dynamic user (both write the state file), the
  # credentials, and the sandbox.
  commonServiceConfig = hardening // {
    User = "shelflife";
    Group = "shelflife";
    StateDirectory = "shelflife";
    StateDirectoryMode = "0700";
    # For the metrics file, readable by node_exporter and kept between passes.
    RuntimeDirectory = "shelflife";
    RuntimeDirectoryMode = "0755";
    RuntimeDirectoryPreserve = "yes";
    LoadCredential = lib.mapAttrsToList (name: path: "${name}:${path}") credentials;
    ReadWritePaths = writableDirs;
  };
  unitDeps = {
    after = [
      "network-online.target"
      "remote-fs.target"
    ];
    wants = [ "network-online.target" ];
  };
  exec = command: "${lib.getExe cfg.package} --config ${configFile} ${command}";
in
{
  options.services.shelflife = {
    enable = lib.mkEnableOption "shelflife, which deletes watched movies and TV through Radarr and Sonarr every night";

    package = mkOption {
      type = types.package;
      default = pkgs.callPackage ./package.nix { };
      defaultText = lib.literalExpression "pkgs.callPackage ./nix/package.nix { }";
      description = "The shelflife package.";
    };

    settings = mkOption {
      type = settingsType;
      default = { };
      description = ''
        The config file (TOML; every key is explained in src/config/example.toml). Unset keys
        keep shelflife's defaults, so a pass is a dry run until `dry_run = false`. Never put API
        keys here: the file is world-readable in the Nix store; use `credentialFiles`.
      '';
      example = lib.literalExpression ''
        {
          dry_run = false;
          jellyfin = { url = "http://127.0.0.1:8096"; users = [ "alice" ]; };
          radarr.url = "http://127.0.0.1:7878";
          sonarr.url = "http://127.0.0.1:8989";
          rules.grace_days = 7;
          health.mounts = [ { path = "/srv/media"; fstype = "nfs4"; canary = ".shelflife-canary"; } ];
        }
      '';
    };

    credentialFiles = mkOption {
      type = types.submodule {
        # Any other name is an *arr instance's (`hd`, `4k`, `anime`) or a notify target's token
        # (`notify-phone`), typed the same way.
        freeformType = types.attrsOf (types.nullOr types.str);
        options = lib.genAttrs ([ "jellyfin" ] ++ arrs ++ [ "seerr" ]) (
          service:
          mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/etc/credstore/shelflife.${service}";
            description = ''
              A root-only file holding the ${service} API key, outside the Nix store: a string,
              not a Nix path (which would copy the key into the store). systemd reads it as root
              (LoadCredential=) and hands it to the services alone.
            '';
          }
        );
      };
      default = { };
      example = lib.literalExpression ''
        {
          jellyfin = "/etc/credstore/shelflife.jellyfin";
          hd = "/etc/credstore/shelflife.hd";
          "4k" = "/etc/credstore/shelflife.4k";
          "notify-phone" = "/etc/credstore/shelflife.notify-phone";
        }
      '';
      description = "API key files by server: `jellyfin`, each *arr instance by its name (`radarr`, `sonarr` for a single table) and `seerr`; the token of a notify target that needs one as `notify-<name>`.";
    };

    schedule = mkOption {
      type = types.str;
      default = "*-*-* 03:00:00";
      example = "Sun *-*-* 04:00:00";
      description = ''
        When the pass runs (systemd.time(7) OnCalendar=). It starts up to 30 minutes later at
        random, and catches up on a run missed while the machine was off.
      '';
    };

    prometheusRules = mkOption {
      type = types.bool;
      default = false;
      description = ''
        Add shelflife's alert rules (packaging/prometheus/shelflife.rules.yml: the last pass
        failed, paused for a day, no pass in two days, a mount unhealthy, space low, the
        monitor's metrics stale) to this host's Prometheus, as a rule file of their own in
        `services.prometheus.ruleFiles`. Independent of `enable`: the Prometheus that scrapes
        shelflife's host may run elsewhere.
      '';
    };

    monitor.enable = lib.mkEnableOption "the storage monitor (shelflife-monitor.service), which records the storage's health for `health.require_healthy_for`";

    configFile = mkOption {
      type = types.package;
      readOnly = true;
      default = configFile;
      defaultText = lib.literalMD "the checked TOML generated from `settings`";
      description = "The config file the services run with, e.g. for `shelflife --config … status` by hand.";
    };

    metricsFile = mkOption {
      type = types.nullOr types.str;
      default = "/run/shelflife/shelflife.prom";
      description = ''
        Prometheus textfile written after every pass and monitor round (sets
        `settings.metrics.textfile`); null writes none. /run/shelflife is the directory the
        services may write and everyone may read: link the file into node_exporter's textfile
        directory. A path elsewhere is let into the sandbox (ReadWritePaths=), but its directory
        must also be writable by the services' dynamic user.
      '';
    };
  };

  config = lib.mkMerge [
    {
      assertions = [
        {
          assertion = cfg.monitor.enable -> cfg.enable;
          message = "services.shelflife.monitor.enable needs services.shelflife.enable: the monitor runs with its settings and credentials.";
        }
      ];
      # A file of its own: `services.prometheus.rules` joins its strings into one file, where
      # a second `groups:` document would not parse.
      services.prometheus.ruleFiles = lib.mkIf cfg.prometheusRules [
        ../packaging/prometheus/shelflife.rules.yml
      ];
    }

    (lib.mkIf cfg.enable {
      services.shelflife.settings.metrics.textfile = lib.mkIf (cfg.metricsFile != null) (
        lib.mkDefault cfg.metricsFile
      );

      assertions =
        [
          {
            assertion = inlineSecrets == [ ];
            message = "services.shelflife: ${lib.concatStringsSep ", " inlineSecrets} must not be set. Settings are world-readable in the Nix store, and the services' dynamic user could read a key file only if everyone can. Put each key in a root-only file and name it in services.shelflife.credentialFiles.<service> (a notify target's token: credentialFiles.\"notify-<name>\"): systemd hands it to the services alone (LoadCredential=).";
          }
          {
            assertion = cfg.settings.jellyfin.url != null;
            message = "services.shelflife.settings.jellyfin.url must be set: shelflife reads the watched state from Jellyfin.";
          }
          {
            assertion = cfg.settings.jellyfin.users != null && cfg.settings.jellyfin.users != [ ];
            message = "services.shelflife.settings.jellyfin.users must name at least one Jellyfin user whose watched state counts.";
          }
        ]
        ++ map (i: {
          assertion = cfg.credentialFiles.${i.name} or null != null;
          message = "services.shelflife.${i.where} is set, but services.shelflife.credentialFiles.${i.name} is not: shelflife needs the API key of ${i.name}.";
        }) ([ { name = "jellyfin"; where = "settings.jellyfin"; } ] ++ instances ++ seerrEntry)
        ++ [
          {
            assertion = lib.unique configured == configured;
            message = "services.shelflife: two servers share a name (${lib.concatStringsSep ", " configured}); give each *arr instance its own `name`.";
          }
        ]
        ++ lib.mapAttrsToList (s: path: {
          assertion = lib.hasPrefix "/" path && !lib.hasPrefix builtins.storeDir path;
          message = "services.shelflife.credentialFiles.${s} must be an absolute path outside the Nix store (everyone can read the store): ${path}";
        }) credentials
        ++ [
          {
            assertion = cfg.settings.health.require_healthy_for != null -> cfg.monitor.enable;
            message = "services.shelflife.settings.health.require_healthy_for needs services.shelflife.monitor.enable: without the monitor's samples every pass pauses.";
          }
        ];

      warnings =
        map (s: "services.shelflife.credentialFiles.${s} is set, but no server or notify target of the settings is called ${lib.removePrefix "notify-" s}: shelflife will not use it.") (
          builtins.filter (s: !(builtins.elem s (configured ++ notifyCredentials))) (builtins.attrNames credentials)
        );

      # One pass. Type=oneshot: `systemctl start` returns with its result, and the timer never
      # starts a second pass while one runs. NotifyAccess=main: the pass reports its phase and
      # extends its start timeout while it makes progress.
      systemd.services.shelflife = unitDeps // {
        description = "shelflife retention pass";
        # A rebuild should not cut a running pass short and start another right away.
        restartIfChanged = false;
        serviceConfig = commonServiceConfig // {
          Type = "oneshot";
          NotifyAccess = "main";
          ExecStart = exec "run";
          # 75: paused because the storage is not healthy. Expected; the journal and the metrics
          # say why.
          SuccessExitStatus = "75";
          TimeoutStartSec = "15min";
        };
      };

      systemd.timers.shelflife = {
        description = "Nightly shelflife retention pass";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = cfg.schedule;
          Persistent = true;
          RandomizedDelaySec = "30min";
        };
      };

      # A round is cut off at half of WatchdogSec, and one request may take 3.5 min with its
      # retries: keep the watchdog above twice that.
      systemd.services.shelflife-monitor = lib.mkIf cfg.monitor.enable (
        unitDeps
        // {
          description = "shelflife storage health monitor";
          wantedBy = [ "multi-user.target" ];
          serviceConfig = commonServiceConfig // {
            Type = "notify";
            ExecStart = exec "monitor";
            WatchdogSec = "8min";
            Restart = "on-failure";
            RestartSec = "30s";
          };
        }
      );
    })
  ];
}
