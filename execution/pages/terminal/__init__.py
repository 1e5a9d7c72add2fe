"""The operator terminal (/terminal/): a touch screen at a resource, used with gloves.

The device is signed in with a Django account that may post registrations
(execution.add_rawregistration) and is bound to one Terminal, kept in the session. A worker
then signs in with badge and PIN; the worker's session ends with "Done" or after
IDLE_SECONDS without a tap (checked on the server on every request).

Every action posts a registration through registration_accept, exactly as the API does: the
registration is stored at once and the processor turns it into journals in the background.
Each form carries the registration UUID made when it was shown, so a double tap stores one.

`session` (device, terminal, worker), `posting` (a registration and its banner), `screens`,
`clocking` (time and attendance), `jobs` (work on jobs), `forms`, `urls`.
"""
