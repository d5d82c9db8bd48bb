"""Which protectorclient errors Horizon handles as which kind.

Listed in ``ADD_EXCEPTIONS`` of every enabled file: Horizon's
``exceptions.handle`` then shows them as a message instead of a 500.
``APIError`` covers every HTTP status (its ``status`` tells them apart),
so the views that must react to a 404 check ``not_found`` themselves;
a 401 from protector-api is not a reason to end the Horizon session
(Keystone validated the same token for Horizon a moment ago), so nothing
is listed as UNAUTHORIZED.
"""
from protectorclient import exceptions

NOT_FOUND = ()
RECOVERABLE = (exceptions.ProtectorClientError,)
UNAUTHORIZED = ()
