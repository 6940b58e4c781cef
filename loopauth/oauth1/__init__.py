"""OAuth 1.0a (RFC 5849): signing (:mod:`.signing`), the provider's answers (:mod:`.messages`), the login's
:class:`~.dance.OAuth1Dance`, and the manual :class:`~.flow.Flow` / :class:`~.flow.SyncFlow`."""
