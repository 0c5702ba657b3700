// Device statuses carried in the status byte of a response frame. Mirrors
// host/format/device-protocol.ts (DEVICE_STATUS); a test compares the two lists.
export const DEV_OK: u8 = 0;
export const DEV_BAD_COMMAND: u8 = 1; // unknown command byte
export const DEV_BAD_PAYLOAD: u8 = 2; // payload length or content wrong for the command
export const DEV_SEQ_GAP: u8 = 3; // a frame was skipped: payload u16 = the sequence number expected
export const DEV_NO_TRANSFER: u8 = 4; // WRITE or COMMIT without BEGIN
export const DEV_BAD_OFFSET: u8 = 5; // WRITE beyond what was received, or past the image
export const DEV_MODEL_TOO_BIG: u8 = 6; // the image does not fit a flash slot
export const DEV_HASH_MISMATCH: u8 = 7; // SHA-256 of the slot differs from BEGIN's: nothing activated
export const DEV_FLASH_ERROR: u8 = 8; // a flash import returned an error
export const DEV_MODEL_REJECTED: u8 = 9; // the runtime refused the image: payload u32 = runtime status
export const DEV_OUT_OF_MEMORY: u8 = 10; // the model does not fit the device's RAM
export const DEV_NO_MODEL: u8 = 11; // RUN with no active model
export const DEV_BAD_INPUT: u8 = 12; // RUN input size differs from the model's
export const DEV_INCOMPLETE: u8 = 13; // COMMIT before every byte arrived: payload u32 = bytes received
export const DEV_DUPLICATE: u8 = 14; // an older frame came again: it was processed; payload u16 = expected seq
