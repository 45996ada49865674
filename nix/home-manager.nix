# home-manager module: `imports = [ keybridge.homeManagerModules.default ];
# programs.keybridge.enable = true;`
#
# Installs keybridge for the user, exports SOPS_AGE_KEY_FILE (the keys.txt that sops, clan,
# `keybridge bw sync` and `keybridge validate` use), points sops-nix's home-manager module at the
# same file, and (behind programs.keybridge.agent.enable) runs the keybridge agent as a systemd
# user service.
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
in
{
  options.programs.keybridge = {
    enable = lib.mkEnableOption "keybridge for this user";

    package = import ./package-option.nix { inherit self lib pkgs; };

    ageKeyFile = lib.mkOption {
      type = lib.types.nullOr lib.types.str;
      default = "${config.xdg.configHome}/sops/age/keys.txt";
      defaultText = lib.literalExpression ''"''${config.xdg.configHome}/sops/age/keys.txt"'';
      description = ''
        The age keys file, exported as SOPS_AGE_KEY_FILE and, when sops-nix's home-manager module
        is imported, used as sops.age.keyFile (mkDefault). null leaves both alone.
      '';
    };

    agent = {
      enable = lib.mkEnableOption ''
        the keybridge agent as a systemd user service (it keeps verified PINs between age
        processes; needs a keybridge that has the `keybridge agent` command)
      '';
      extraArgs = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [ ];
        description = "Extra arguments for `keybridge agent`.";
      };
    };
  };

  config = lib.mkIf cfg.enable (
    lib.mkMerge [
      {
        home.packages = [ cfg.package ];
        home.sessionVariables = lib.mkIf (cfg.ageKeyFile != null) { SOPS_AGE_KEY_FILE = cfg.ageKeyFile; };
      }
      (lib.optionalAttrs (options ? sops.age.keyFile) {
        sops.age.keyFile = lib.mkIf (cfg.ageKeyFile != null) (lib.mkDefault cfg.ageKeyFile);
      })
      (lib.optionalAttrs (options ? sops.age.plugins) { sops.age.plugins = [ cfg.package ]; })
      (lib.mkIf cfg.agent.enable {
        systemd.user.services.keybridge-agent = {
          Unit.Description = "keybridge agent: PIN sessions for age plugins";
          Service = {
            ExecStart = lib.escapeShellArgs ([ (lib.getExe' cfg.package "keybridge") "agent" ] ++ cfg.agent.extraArgs);
            Restart = "on-failure";
          } // lib.optionalAttrs (cfg.ageKeyFile != null) { Environment = [ "SOPS_AGE_KEY_FILE=${cfg.ageKeyFile}" ]; };
          Install.WantedBy = [ "default.target" ];
        };
      })
    ]
  );
}
