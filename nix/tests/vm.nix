# The module on a real NixOS: a live pass (dry_run = false) against simstack, the simulated
# Jellyfin/Radarr/Sonarr, must delete through the *arrs, say so in the journal, and leave its
# state in the dynamic user's state directory. Run with `nix flake check` or
# `nix build .#checks.x86_64-linux.vm`.
{
  pkgs,
  module,
  shelflife,
}:

pkgs.testers.runNixOSTest {
  name = "shelflife";

  nodes.machine =
    { lib, ... }:
    {
      imports = [ module ];

      # Jellyfin on 18096, Radarr on 18097, Sonarr on 18098, serving the demo library.
      systemd.services.simstack = {
        wantedBy = [ "multi-user.target" ];
        serviceConfig = {
          ExecStart = "${lib.getExe shelflife.simstack} 18096";
          DynamicUser = true;
        };
      };

      # The keys simstack accepts, as root-only files (a copy, not a store symlink, with a mode).
      environment.etc = lib.listToAttrs (
        map (service: {
          name = "shelflife-keys/${service}";
          value = {
            text = "sim-${service}-key";
            mode = "0400";
          };
        }) [ "jellyfin" "radarr" "sonarr" ]
      );

      services.shelflife = {
        enable = true;
        package = shelflife;
        settings = {
          dry_run = false;
          jellyfin = {
            url = "http://127.0.0.1:18096";
            users = [ "alice" ];
          };
          radarr.url = "http://127.0.0.1:18097";
          sonarr.url = "http://127.0.0.1:18098";
        };
        credentialFiles = {
          jellyfin = "/etc/shelflife-keys/jellyfin";
          radarr = "/etc/shelflife-keys/radarr";
          sonarr = "/etc/shelflife-keys/sonarr";
        };
        monitor.enable = true;
      };
      # The servers must be up before shelflife talks to them.
      systemd.services.shelflife.after = [ "simstack.service" ];
      systemd.services.shelflife-monitor = {
        after = [ "simstack.service" ];
        wants = [ "simstack.service" ];
      };
    };

  testScript = ''
    machine.wait_for_unit("simstack.service")
    machine.wait_for_open_port(18098)

    # One pass; oneshot, so this returns when the pass is over. Exit 75 (paused) would also
    # count as success for systemd, so check the status too.
    machine.succeed("systemctl start shelflife.service")
    status = machine.succeed("systemctl show -P ExecMainStatus shelflife.service").strip()
    assert status == "0", f"the pass exited {status}"

    # The decision fields reach journald: the demo library has watched movies past their grace.
    machine.wait_until_succeeds(
        "journalctl --no-pager -u shelflife.service ACTION=delete KIND=movie -o cat | grep -q 'The Matrix'"
    )
    # The state file lives in the dynamic user's private state directory.
    machine.succeed("test -s /var/lib/private/shelflife/state.db")
    machine.succeed("grep -q shelflife_last_pass_outcome /run/shelflife/shelflife.prom")

    # The monitor runs and pings its watchdog (Type=notify).
    machine.wait_for_unit("shelflife-monitor.service")
  '';
}
