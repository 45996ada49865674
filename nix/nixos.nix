# NixOS module: `imports = [ keybridge.nixosModules.default ]; programs.keybridge.enable = true;`
#
# Puts keybridge on the system, turns pcscd on (YubiKey and Pico HSM PIV/SmartCard-HSM go through
# PC/SC), installs the udev rules for FIDO2 tokens through services.udev.packages, and hands the
# age plugins to whichever secrets tool this system imports:
#   - sops-nix: sops.age.plugins (its activation puts them on PATH for sops-install-secrets);
#   - agenix:   age.ageBin, an age that finds the plugins on PATH (agenix has no plugin option);
#   - clan:     machines decrypt their vars through sops-nix (the line above); clan's own
#               `secrets.age.plugins` is a flake-level setting, see README.
# Each is set only when that module is imported, so this module works with any of them or none.
{ self }:
{
  config,
  lib,
  options,
  pkgs,
  ...
}:

let
  cfg = config.programs.keybridge;
  pluginPath = lib.makeBinPath [ cfg.package ];
  ageWithPlugins = pkgs.writeShellScript "age-with-keybridge-plugins" ''
    PATH=${pluginPath}''${PATH:+:$PATH}
    export PATH
    exec ${lib.getExe' pkgs.age "age"} "$@"
  '';
in
{
  options.programs.keybridge = {
    enable = lib.mkEnableOption "keybridge (age plugins for hardware tokens, ssh-to-age, keybridge validate)";

    package = import ./package-option.nix { inherit self lib pkgs; };

    pcscd.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "Whether to enable pcscd (services.pcscd.enable), which the PIV and SmartCard-HSM plugins talk to.";
    };

    udevRules.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = ''
        Whether to install keybridge's udev rules (services.udev.packages): the logged-in user and
        the plugdev group may open FIDO2 tokens' hidraw devices.
      '';
    };

    sopsNix.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = "When sops-nix is imported: add keybridge to sops.age.plugins.";
    };

    agenix.enable = lib.mkOption {
      type = lib.types.bool;
      default = true;
      description = ''
        When agenix is imported: set age.ageBin (with mkDefault) to an age that finds keybridge's
        plugins on PATH. A value you set yourself wins; then put the plugins on its PATH yourself.
      '';
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        environment.systemPackages = [ cfg.package ];
        services.pcscd.enable = lib.mkIf cfg.pcscd.enable true;
        services.udev.packages = lib.mkIf cfg.udevRules.enable [ cfg.package ];
        users.groups.plugdev = lib.mkIf cfg.udevRules.enable { };
      }
      (lib.optionalAttrs (options ? sops.age.plugins) {
        sops.age.plugins = lib.mkIf cfg.sopsNix.enable [ cfg.package ];
      })
      (lib.optionalAttrs (options ? age.ageBin) {
        age.ageBin = lib.mkIf cfg.agenix.enable (lib.mkDefault "${ageWithPlugins}");
      })
    ]
  );
}
