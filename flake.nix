{
  description = "keybridge: hardware tokens and everyday keys for age, sops, sops-nix, agenix and clan";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: {
        keybridge = pkgs.callPackage ./package.nix { };
        default = self.packages.${pkgs.stdenv.hostPlatform.system}.keybridge;
      });

      overlays.default = final: _prev: { keybridge = final.callPackage ./package.nix { }; };

      nixosModules.default = import ./nix/nixos.nix { inherit self; };
      homeManagerModules.default = import ./nix/home-manager.nix { inherit self; };

      # For your own flake: checks.${system}.secrets = keybridge.lib.validateCheck { inherit pkgs; repo = ./.; };
      # passes when every key corresponds across the repo (`keybridge validate REPO --no-keys`).
      lib.validateCheck =
        {
          pkgs,
          repo,
          args ? [ ],
          keybridge ? self.packages.${pkgs.stdenv.hostPlatform.system}.keybridge,
        }:
        pkgs.runCommand "keybridge-validate" { nativeBuildInputs = [ keybridge ]; } ''
          keybridge validate ${repo} --no-keys ${lib.escapeShellArgs args}
          touch $out
        '';

      checks = forAllSystems (
        pkgs:
        let
          keybridge = self.packages.${pkgs.stdenv.hostPlatform.system}.keybridge;
        in
        {
          inherit keybridge;
          # keybridge validate on the example repo reports exactly its planted faults.
          validate-example =
            pkgs.runCommand "keybridge-validate-example"
              {
                nativeBuildInputs = [
                  keybridge
                  pkgs.jq
                ];
              }
              ''
                bash ${./nix/checks/validate-example.sh} keybridge ${./.}
                touch $out
              '';
          # Every bin runs, and its completions and man page are installed.
          bins = pkgs.runCommand "keybridge-bins" { nativeBuildInputs = [ keybridge ]; } (
            lib.concatMapStrings (bin: ''
              ${bin} --help > /dev/null
              test -s ${keybridge}/share/man/man1/${bin}.1.gz
              test -s ${keybridge}/share/bash-completion/completions/${bin}.bash
              test -s ${keybridge}/share/zsh/site-functions/_${bin}
              test -s ${keybridge}/share/fish/vendor_completions.d/${bin}.fish
            '') keybridge.bins
            + ''
              test -f ${keybridge}/lib/udev/rules.d/70-keybridge-tokens.rules
              test -f ${keybridge}/lib/node_modules/keybridge/native/libnodelay.so
              touch $out
            ''
          );
          # The NixOS module evaluates and sets pcscd and the udev rules.
          nixos-module =
            let
              system = lib.nixosSystem {
                inherit (pkgs.stdenv.hostPlatform) system;
                modules = [
                  self.nixosModules.default
                  {
                    programs.keybridge.enable = true;
                    fileSystems."/".device = "/dev/null";
                    boot.loader.grub.enable = false;
                    system.stateVersion = "25.05";
                  }
                ];
              };
              inherit (system) config;
            in
            assert config.services.pcscd.enable;
            assert builtins.elem keybridge config.services.udev.packages;
            assert config.users.groups ? plugdev;
            pkgs.writeText "keybridge-nixos-module" "ok";
        }
      );

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          packages = [
            pkgs.nodejs_20
            pkgs.python3
            pkgs.pkg-config
            pkgs.pcsclite
            pkgs.libusb1
            pkgs.udev
            pkgs.age
            pkgs.jq
          ];
          env.NIX_CFLAGS_COMPILE = "-I${lib.getDev pkgs.pcsclite}/include/PCSC";
        };
      });
    };
}
