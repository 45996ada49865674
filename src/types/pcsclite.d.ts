// pcsclite ships no types; src/transport/pcsc.ts describes the part it uses.
declare module 'pcsclite';
