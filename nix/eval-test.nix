# Evaluates nix/module.nix with nixpkgs' lib alone (no nixpkgs, no builds): the units it makes,
# the config it generates, and the assertions that fail. pkgs and the NixOS options the module
# sets are stubs, just enough for the module to evaluate. For a machine with Nix but no nixpkgs:
#
#   nix-instantiate --eval --strict --json nix/eval-test.nix \
#     --arg lib 'import /path/to/nixpkgs.lib/lib' -A good   # or inlineKey, notify, monitorOnly, …
{
  lib ? import <nixpkgs/lib>,
}:

let
  # A derivation as far as lib.isDerivation and string interpolation are concerned.
  stubDrv =
    name: attrs:
    {
      type = "derivation";
      inherit name;
      outPath = "/nix/store/00000000000000000000000000000000-${name}";
    }
    // attrs;

  pkgs = {
    formats.toml = _: {
      # What nixpkgs' formats.toml uses; older lib versions lack types.toml.
      type = lib.types.attrsOf (lib.types.toml or lib.types.anything);
      # Keeps the value, so the harness can show what would be written.
      generate = name: value: stubDrv name { inherit value; };
    };
    runCommand =
      name: env: script:
      stubDrv name { inherit env script; };
    callPackage = _: _: throw "eval-test: set services.shelflife.package";
  };

  # The NixOS options the module writes to, declared loosely.
  nixosStubs =
    { lib, ... }:
    {
      options = {
        assertions = lib.mkOption {
          type = lib.types.listOf lib.types.unspecified;
          default = [ ];
        };
        warnings = lib.mkOption {
          type = lib.types.listOf lib.types.str;
          default = [ ];
        };
        systemd.services = lib.mkOption {
          type = lib.types.attrsOf lib.types.anything;
          default = { };
        };
        systemd.timers = lib.mkOption {
          type = lib.types.attrsOf lib.types.anything;
          default = { };
        };
        services.prometheus.ruleFiles = lib.mkOption {
          type = lib.types.listOf lib.types.path;
          default = [ ];
        };
      };
    };

  # `shelflife` is services.shelflife; `host` any other config of the host.
  eval =
    {
      shelflife,
      host ? { },
    }:
    let
      config =
        (lib.evalModules {
          modules = [
            nixosStubs
            ./module.nix
            {
              _module.args.pkgs = pkgs;
              services.shelflife = {
                package = stubDrv "shelflife-0.1.0" { meta.mainProgram = "shelflife"; };
              } // shelflife;
            }
            host
          ];
        }).config;
    in
    {
      failedAssertions = map (a: a.message) (builtins.filter (a: !a.assertion) config.assertions);
      inherit (config) warnings;
      services = lib.mapAttrs (_: unit: removeAttrs unit [ "serviceConfig" ]) config.systemd.services;
      serviceConfig = lib.mapAttrs (_: unit: unit.serviceConfig) config.systemd.services;
      timers = config.systemd.timers;
      prometheusRuleFiles = map toString config.services.prometheus.ruleFiles;
      # The build step that checks the config, and the values the TOML generator is given.
      configFile =
        let
          checked = config.services.shelflife.configFile;
        in
        if !config.services.shelflife.enable then
          null
        else
          {
            inherit (checked) script;
            env = removeAttrs checked.env [ "generated" ];
            generated = checked.env.generated.value;
          };
    };

  settings = {
    dry_run = false;
    jellyfin = {
      url = "http://127.0.0.1:18096";
      users = [ "alice" ];
    };
    radarr.url = "http://127.0.0.1:18097";
    sonarr.url = "http://127.0.0.1:18098";
    rules.grace_days = 7;
    health.mounts = [
      {
        path = "/srv/media";
        fstype = "nfs4";
        canary = ".shelflife-canary";
        root_folders = [ "/movies" ];
        space_mode = "when_low";
        target_free_percent = 20;
        grace_tiers = [
          {
            below_free_percent = 15;
            grace_days = 3;
          }
        ];
      }
    ];
  };
  credentialFiles = {
    jellyfin = "/etc/credstore/shelflife.jellyfin";
    radarr = "/etc/credstore/shelflife.radarr";
    sonarr = "/etc/credstore/shelflife.sonarr";
  };
in
{
  # What a real host would write: every unit, no failed assertion.
  good = eval {
    shelflife = {
      enable = true;
      inherit settings credentialFiles;
      monitor.enable = true;
    };
  };

  # A key inline in settings, and a service without its credential file: refused.
  inlineKey = eval {
    shelflife = {
      enable = true;
      settings = lib.recursiveUpdate settings { radarr.api_key = "s3cr3t"; };
      credentialFiles = removeAttrs credentialFiles [ "sonarr" ];
    };
  };

  # Two Radarrs (HD and 4K) as an attrset by name, two Sonarrs as a list: each instance has its
  # credential, and the config holds [[radarr]] and [[sonarr]] with the names.
  twoInstances = eval {
    shelflife = {
      enable = true;
      monitor.enable = true;
      settings = settings // {
        radarr = {
          hd.url = "http://127.0.0.1:18097";
          "4k".url = "http://127.0.0.1:18099";
        };
        sonarr = [
          { url = "http://127.0.0.1:18098"; }
          {
            name = "anime";
            url = "http://127.0.0.1:18100";
          }
        ];
      };
      credentialFiles = {
        jellyfin = "/etc/credstore/shelflife.jellyfin";
        hd = "/etc/credstore/shelflife.hd";
        "4k" = "/etc/credstore/shelflife.4k";
        sonarr = "/etc/credstore/shelflife.sonarr";
        anime = "/etc/credstore/shelflife.anime";
      };
    };
  };

  # The same without the 4K Radarr's credential: refused, naming it.
  missingInstanceKey = eval {
    shelflife = {
      enable = true;
      settings = settings // {
        radarr = [
          { name = "hd"; url = "http://127.0.0.1:18097"; }
          { name = "4k"; url = "http://127.0.0.1:18099"; }
        ];
      };
      credentialFiles = removeAttrs credentialFiles [ "radarr" ] // {
        hd = "/etc/credstore/shelflife.hd";
      };
    };
  };

  # A notice period with its collection, and two notify targets: ntfy with its token as a
  # credential, and a command that needs none. The token reaches the services, not the settings.
  notify = eval {
    shelflife = {
      enable = true;
      settings = settings // {
        rules = {
          grace_days = 7;
          notice_days = 3;
        };
        leaving_soon.collection = "Going Away";
        notify = [
          {
            name = "phone";
            kind = "ntfy";
            url = "https://ntfy.example.org/shelflife";
            events = [
              "scheduled"
              "failed"
            ];
          }
          {
            name = "apprise";
            kind = "command";
            command = [
              "/run/current-system/sw/bin/apprise"
              "-b"
              "shelflife"
            ];
            timeout = "30s";
          }
        ];
      };
      credentialFiles = credentialFiles // {
        "notify-phone" = "/etc/credstore/shelflife.notify-phone";
      };
    };
  };

  # A token written into the settings: refused, like an inline API key.
  inlineToken = eval {
    shelflife = {
      enable = true;
      inherit credentialFiles;
      settings = settings // {
        notify = [
          {
            kind = "ntfy";
            url = "https://ntfy.example.org/shelflife";
            token = "tk_s3cr3t";
          }
        ];
      };
    };
  };

  # Seerr, with its key as a credential.
  seerr = eval {
    shelflife = {
      enable = true;
      settings = settings // {
        seerr = {
          url = "http://127.0.0.1:5055";
          timeout = "20s";
          keep_until_requester_watched = true;
        };
      };
      credentialFiles = credentialFiles // {
        seerr = "/etc/credstore/shelflife.seerr";
      };
    };
  };

  # Seerr without its key: refused while the system is built, not at the nightly pass.
  seerrNoKey = eval {
    shelflife = {
      enable = true;
      inherit credentialFiles;
      settings = settings // {
        seerr.url = "http://127.0.0.1:5055";
      };
    };
  };

  # The monitor without the module.
  monitorOnly = eval { shelflife.monitor.enable = true; };

  # A Prometheus host that takes the alert rules, without running shelflife itself.
  prometheusRules = eval { shelflife.prometheusRules = true; };

  # A host relaxes one hardening key (media under /home), as the README's drop-in does, and
  # writes metrics to node_exporter's directory: the sandbox lets that directory in.
  relaxed = eval {
    shelflife = {
      enable = true;
      inherit settings credentialFiles;
      metricsFile = "/var/lib/prometheus-node-exporter-text-files/shelflife.prom";
    };
    host.systemd.services.shelflife.serviceConfig.ProtectHome = "read-only";
  };
}
