"""The protocol-neutral loopback login: everything a login does that is not OAuth 1.0a or 2.0 itself.

- :mod:`.options`: :class:`LoginOptions`, one typed value for everything a login may be told;
- :mod:`.plan`: where the callback goes and whether we serve it (pure);
- :mod:`.listen`: binding the loopback sockets (standard library only, before aiohttp);
- :mod:`.browser`: opening the system browser in a daemon thread, and a console browser's process;
- :mod:`.countdown`: the time left, drawn in place on a terminal while the login waits;
- :mod:`.server`: the aiohttp server that catches the callback, and the one-shot :class:`~.server.Waiter`;
- :mod:`.paste`: lines pasted on stdin while the server waits;
- :mod:`.pages`, :mod:`.wording`: what the browser and the terminal are told;
- :mod:`.tls`: certificates for an https callback;
- :mod:`.dance`: the interface a protocol implements (:class:`~.dance.Dance`) and the outcomes of a callback;
- :mod:`.runner`: :class:`~.runner.Login`, the pipeline that drives a Dance.
"""
