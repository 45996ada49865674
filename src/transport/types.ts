/**
 * The byte boundary between token sessions (tokens/) and the wire (PC/SC, or an in-process
 * simulator in unit tests). A transport moves one command APDU and returns the full response
 * APDU (data ‖ SW1 SW2), exactly as the reader returned it: no chaining, no 61xx handling
 * (that belongs to the APDU protocol layer above it).
 */
export interface ApduTransport {
  transmit(command: Uint8Array): Promise<Uint8Array>;
  /** Ends the connection; `leaveCard` (default true) keeps the card powered and its PIN state. */
  close(leaveCard?: boolean): Promise<void>;
}
