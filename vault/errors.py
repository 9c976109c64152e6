"""Errors that vault use cases raise for the web and CLI layers to turn into answers."""


class CustomerNotFoundError(LookupError):
    """No customer with this id, or the customer was erased."""
