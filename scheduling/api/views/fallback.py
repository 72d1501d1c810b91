from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt


@csrf_exempt  # it changes nothing, and must answer JSON even to a cookie-carrying POST
def api_not_found(request, *args, **kwargs) -> JsonResponse:
    return JsonResponse({"code": "not_found", "detail": "No such endpoint or object."}, status=404)
