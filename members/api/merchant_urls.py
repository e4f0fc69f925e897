app_name = "members_merchant"

urlpatterns: list = []
