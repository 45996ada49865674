# keybridge for nixpkgs-style use: `pkgs.callPackage ./package.nix { }`.
#
# Built with buildNpmPackage from package-lock.json and nothing else: importNpmLock turns every
# lock entry into a fixed-output fetch (URL + the lock's integrity hash), so the build itself has no
# network and no npmDepsHash to keep up to date. Native parts are compiled from source against
# Nix's libraries: the pcsclite addon (PC/SC), node-hid (hidapi over libusb / hidraw with libudev;
# its prebuilt binaries are not used), and native/libnodelay.so, the TCP_NODELAY preload of the
# `keybridge rig` test rig. Every executable in package.json's `bin` is wrapped.
{
  lib,
  buildNpmPackage,
  importNpmLock,
  nodejs_20,
  python3,
  pkg-config,
  makeWrapper,
  installShellFiles,
  pcsclite,
  libusb1,
  udev,
  procps,
  vsmartcard-vpcd,
  # `keybridge rig` (pcscd + the vpcd driver, for virtual tokens in tests and CI).
  withRig ? true,
}:

let
  packageJson = lib.importJSON ./package.json;
  bins = builtins.attrNames packageJson.bin;
  src = lib.fileset.toSource {
    root = ./.;
    fileset = lib.fileset.unions [
      ./package.json
      ./package-lock.json
      ./tsconfig.json
      ./src
      ./scripts
      ./native/Makefile
      ./native/nodelay.c
      ./udev
    ];
  };
in
buildNpmPackage {
  pname = packageJson.name;
  inherit (packageJson) version;
  inherit src;

  nodejs = nodejs_20;
  npmDeps = importNpmLock {
    npmRoot = src;
    packageLock = import ./nix/npm-lock.nix { lockFile = ./package-lock.json; };
  };
  npmConfigHook = importNpmLock.npmConfigHook;

  nativeBuildInputs = [
    python3
    pkg-config
    makeWrapper
    installShellFiles
  ];
  buildInputs = [
    pcsclite
    libusb1
    udev
  ];

  env = {
    # node-hid ships prebuilt binaries linked against another system's libudev: build it here.
    npm_config_build_from_source = "true";
    # The pcsclite addon's binding.gyp looks for winscard.h in /usr/include/PCSC only.
    NIX_CFLAGS_COMPILE = "-I${lib.getDev pcsclite}/include/PCSC";
  };

  # `npm run build` bundles dist/ and generates the man pages and shell completions.
  postBuild = ''
    make -C native
  '';

  postInstall = ''
    pkg=$out/lib/node_modules/${packageJson.name}
    # npm pack carries sources only; the preload built above is installed beside them.
    install -Dm755 native/libnodelay.so $pkg/native/libnodelay.so
    install -Dm644 udev/70-keybridge-tokens.rules $out/lib/udev/rules.d/70-keybridge-tokens.rules
    installManPage dist/man/*.1
  ''
  + lib.concatMapStrings (bin: ''
    installShellCompletion --cmd ${bin} \
      --bash dist/completions/${bin}.bash \
      --zsh dist/completions/_${bin} \
      --fish dist/completions/${bin}.fish
  '') bins
  + lib.optionalString withRig ''
    vpcd=$(find -L ${vsmartcard-vpcd} -name 'libifdvpcd.so*' -type f | sort | head -n 1)
    if [ -z "$vpcd" ]; then
      echo "keybridge: libifdvpcd.so not found in ${vsmartcard-vpcd}" >&2
      exit 1
    fi
    rigArgs=(--set-default KEYBRIDGE_PCSCD ${lib.getExe' pcsclite "pcscd"} --set-default KEYBRIDGE_VPCD_DRIVER "$vpcd")
  ''
  + lib.concatMapStrings (bin: ''
    wrapProgram $out/bin/${bin} \
      --suffix PATH : ${lib.makeBinPath [ procps ]} ${lib.optionalString withRig ''"''${rigArgs[@]}"''}
  '') bins;

  passthru = {
    inherit bins;
  };

  meta = {
    description = packageJson.description;
    license = lib.licenses.mit;
    mainProgram = "keybridge";
    platforms = lib.platforms.linux;
  };
}
