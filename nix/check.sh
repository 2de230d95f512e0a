#!/usr/bin/env bash
# Parses every .nix file in the repository, so a syntax error in the module, the package, the
# flake or the VM test fails CI on a machine without nixpkgs. Evaluating and building them needs
# nixpkgs (`nix flake check` does both); nix/eval-test.nix evaluates the module with nixpkgs' lib
# alone: set NIXPKGS_LIB=/path/to/nixpkgs.lib/lib to run it here too.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nix-instantiate >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends nix-bin
fi
nix-instantiate --version

# No store and no daemon: parsing needs neither, and a dummy store refuses any write. A throwaway
# HOME keeps Nix's cache and settings off the machine.
export NIX_REMOTE=dummy://
HOME=$(mktemp -d)
export HOME
trap 'rm -rf "$HOME"' EXIT

mapfile -d '' files < <(find . \( -path ./target -o -path ./.git \) -prune -o -name '*.nix' -print0 | sort -z)
if [ "${#files[@]}" -eq 0 ]; then
    echo "nix/check.sh: no .nix files found" >&2
    exit 1
fi
failed=0
for file in "${files[@]}"; do
    if nix-instantiate --parse "$file" >/dev/null; then
        echo "parses: $file"
    else
        echo "nix/check.sh: $file does not parse" >&2
        failed=$((failed + 1))
    fi
done

if [ -n "${NIXPKGS_LIB:-}" ]; then
    # The module against the real module system: the good config passes every assertion, the
    # inline key, the inline token and the lone monitor are refused; notify targets get their token
    # credentials.
    verdict=$(nix-instantiate --eval --strict --expr "
      let t = import ./nix/eval-test.nix { lib = import ${NIXPKGS_LIB}; }; in
      t.good.failedAssertions == [ ]
      && t.good.serviceConfig.shelflife.Type == \"oneshot\"
      && t.good.serviceConfig.shelflife-monitor.Type == \"notify\"
      && builtins.length t.inlineKey.failedAssertions == 2
      && builtins.length t.monitorOnly.failedAssertions == 1
      && t.good.prometheusRuleFiles == [ ]
      && t.prometheusRules.failedAssertions == [ ]
      && map baseNameOf t.prometheusRules.prometheusRuleFiles == [ \"shelflife.rules.yml\" ]
      && builtins.pathExists (builtins.head t.prometheusRules.prometheusRuleFiles)
      && (builtins.head (builtins.head t.good.configFile.generated.health.mounts).grace_tiers).grace_days == 3
      && (builtins.head t.good.configFile.generated.health.mounts).space_mode == \"when_low\"
      && t.twoInstances.failedAssertions == [ ]
      && builtins.elem \"4k:/etc/credstore/shelflife.4k\" t.twoInstances.serviceConfig.shelflife.LoadCredential
      && builtins.elem \"hd:/etc/credstore/shelflife.hd\" t.twoInstances.serviceConfig.shelflife.LoadCredential
      && builtins.elem \"anime:/etc/credstore/shelflife.anime\" t.twoInstances.serviceConfig.shelflife-monitor.LoadCredential
      && map (i: i.name) t.twoInstances.configFile.generated.radarr == [ \"4k\" \"hd\" ]
      && t.twoInstances.configFile.env ? SHELFLIFE_4K_API_KEY
      && t.missingInstanceKey.failedAssertions == [ \"services.shelflife.settings.radarr[2] is set, but services.shelflife.credentialFiles.4k is not: shelflife needs the API key of 4k.\" ]
      && t.notify.failedAssertions == [ ]
      && t.notify.warnings == [ ]
      && builtins.elem \"notify-phone:/etc/credstore/shelflife.notify-phone\" t.notify.serviceConfig.shelflife.LoadCredential
      && t.notify.configFile.generated.rules.notice_days == 3
      && t.notify.configFile.generated.leaving_soon == { collection = \"Going Away\"; }
      && map (n: n.name) t.notify.configFile.generated.notify == [ \"phone\" \"apprise\" ]
      && (builtins.head t.notify.configFile.generated.notify).events == [ \"scheduled\" \"failed\" ]
      && !(builtins.elemAt t.notify.configFile.generated.notify 1 ? url)
      && t.good.configFile.generated.notify == [ ]
      && t.seerr.failedAssertions == [ ]
      && builtins.elem \"seerr:/etc/credstore/shelflife.seerr\" t.seerr.serviceConfig.shelflife.LoadCredential
      && t.seerr.configFile.generated.seerr == { url = \"http://127.0.0.1:5055\"; timeout = \"20s\"; keep_until_requester_watched = true; }
      && t.seerr.configFile.env ? SHELFLIFE_SEERR_API_KEY
      && !(t.good.configFile.generated ? seerr)
      && t.seerrNoKey.failedAssertions == [ \"services.shelflife.settings.seerr is set, but services.shelflife.credentialFiles.seerr is not: shelflife needs the API key of seerr.\" ]
      && t.inlineToken.failedAssertions != [ ]
      && builtins.match \".*settings.notify.1..token must not be set.*\" (builtins.head t.inlineToken.failedAssertions) != null")
    if [ "$verdict" = true ]; then
        echo "evaluates: nix/module.nix (nix/eval-test.nix)"
    else
        echo "nix/check.sh: nix/eval-test.nix: unexpected result ($verdict)" >&2
        failed=$((failed + 1))
    fi
fi

echo "${#files[@]} .nix files, $failed failed"
[ "$failed" -eq 0 ]
