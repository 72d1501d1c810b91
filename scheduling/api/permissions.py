"""The admin's model permissions, checked by the API too (issue 11).

`scheduling.api.access` decides which rows a user reaches (a provider's staff, or a superuser); this
decides what they may do with that kind of row, with the same Django permissions the console checks:
view, add, change, delete. So the API never lets a user do what the console refuses them: the
"Provider staff" group (scheduling/migrations/0004_provider_staff_group.py) may change its providers
but not create or delete one, in both. Superusers have every permission.
"""

from django.db.models import Model
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission

DEFAULT_ACTIONS = {
    "GET": ("view",),
    "HEAD": ("view",),
    "POST": ("add",),
    "PUT": ("change",),
    "PATCH": ("change",),
    "DELETE": ("delete",),
}


class ModelPermission(BasePermission):
    """Requires an authenticated user holding `<app>.<action>_<model>` for each action the method maps to.

    A method the view does not implement passes, so that it answers 405 rather than 403.
    """

    model: type[Model]
    actions: dict[str, tuple[str, ...]] = DEFAULT_ACTIONS

    def has_permission(self, request, view) -> bool:
        method = request.method.upper()
        if method == "OPTIONS" or not hasattr(view, method.lower()):
            return True
        needed = self.actions.get(method)
        user = request.user
        if not (user and user.is_authenticated) or needed is None:
            return False
        opts = self.model._meta
        return user.has_perms([f"{opts.app_label}.{action}_{opts.model_name}" for action in needed])


def model_permission(model: type[Model], **actions: tuple[str, ...]) -> type[ModelPermission]:
    """A ModelPermission for `model`; keyword arguments override what a method needs, e.g.
    POST=("change",) for a state transition."""
    return type(
        f"{model.__name__}Permission",
        (ModelPermission,),
        {"model": model, "actions": {**DEFAULT_ACTIONS, **actions}},
    )


class PublicReadsMixin:
    """For an APIView: reads are open to everyone (the provider catalogue), writes need the view's
    permission classes. AllowAny also tells the schema that reads need no credentials."""

    def get_permissions(self):
        if self.request.method in SAFE_METHODS:
            return [AllowAny()]
        return super().get_permissions()
