"""The IVR: runs voicexml/ on a call (audio in/out, speech recognition, DTMF, transfer into routing)."""
