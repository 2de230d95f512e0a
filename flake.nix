{
  description = "shelflife: deletes watched movies and TV after a grace period, safely, through Radarr and Sonarr";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      # Servers and NASes, and the Raspberry Pi.
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        shelflife = pkgs.callPackage ./nix/package.nix { };
        simstack = shelflife.simstack;
        default = shelflife;
      });

      # The module builds shelflife with the host's nixpkgs by default; this one brings the
      # flake's build, whose toolchain is the one tested here.
      nixosModules.default =
        { lib, pkgs, ... }:
        {
          imports = [ ./nix/module.nix ];
          services.shelflife.package =
            lib.mkDefault
              self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        };

      checks = forAllSystems (
        pkgs:
        let
          shelflife = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        in
        {
          inherit shelflife;
          vm = import ./nix/tests/vm.nix {
            inherit pkgs shelflife;
            module = self.nixosModules.default;
          };
        }
      );
    };
}
