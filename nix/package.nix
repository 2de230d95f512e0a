# shelflife, built from this checkout. `passthru.simstack` is the simulated Jellyfin/Radarr/Sonarr
# (examples/simstack.rs) that the NixOS VM test runs the service against.
{ lib, rustPlatform }:

let
  cargoToml = lib.importTOML ../Cargo.toml;

  # The checkout minus build output and what only Nix or CI read, so editing the module does not
  # rebuild the binary. Everything else stays in: Cargo.toml may name files anywhere (tests,
  # benches, build scripts), cargo refuses a manifest whose named files are missing, and the
  # code may embed files from any directory.
  src = lib.cleanSourceWith {
    name = "shelflife-source";
    src = lib.cleanSource ../.;
    filter =
      path: _type:
      let
        rel = lib.removePrefix (toString ../. + "/") (toString path);
      in
      !(builtins.elem rel [
        "target"
        "nix"
        "flake.nix"
        "flake.lock"
        ".ci"
      ]);
  };

  common = {
    inherit src;
    inherit (cargoToml.package) version;
    cargoLock.lockFile = ../Cargo.lock;
    # The test suite mounts tmpfs, FUSE and loop filesystems and runs systemd's tools: it needs
    # root on a real host, which the build sandbox is not. CI runs it (`.ci/run`).
    doCheck = false;
  };

  meta = {
    description = cargoToml.package.description;
    license = lib.licenses.mit;
    mainProgram = "shelflife";
    platforms = lib.platforms.linux;
  };
in
rustPlatform.buildRustPackage (
  common
  // {
    pname = "shelflife";
    cargoBuildFlags = [
      "--bin"
      "shelflife"
    ];
    # Without the `demo` feature: the installed binary carries no simulated servers (crates/sim,
    # axum). simstack below is where the VM test gets them.
    buildNoDefaultFeatures = true;
    # As the .deb has them: the alert rules and the Grafana dashboard, to point Prometheus and
    # Grafana at.
    postInstall = ''
      install -Dm644 packaging/prometheus/shelflife.rules.yml $out/share/shelflife/shelflife.rules.yml
      install -Dm644 packaging/grafana/shelflife.json $out/share/shelflife/grafana/shelflife.json
    '';
    inherit meta;

    passthru.simstack = rustPlatform.buildRustPackage (
      common
      // {
        pname = "shelflife-simstack";
        cargoBuildFlags = [
          "--example"
          "simstack"
        ];
        # cargo leaves examples in target/<triple>/release/examples, where the standard install
        # step does not look.
        installPhase = ''
          runHook preInstall
          bin=$(find target -path '*/release/examples/simstack' -type f | head -n 1)
          install -Dm755 "$bin" "$out/bin/simstack"
          runHook postInstall
        '';
        meta = meta // {
          description = "Simulated Jellyfin, Radarr and Sonarr serving shelflife's demo library";
          mainProgram = "simstack";
        };
      }
    );
  }
)
