# The `programs.keybridge.package` option shared by the NixOS and home-manager modules.
{
  self,
  lib,
  pkgs,
}:
lib.mkOption {
  type = lib.types.package;
  default = pkgs.keybridge or self.packages.${pkgs.stdenv.hostPlatform.system}.keybridge;
  defaultText = lib.literalExpression "pkgs.keybridge or keybridge.packages.\${system}.keybridge";
  description = "The keybridge package.";
}
