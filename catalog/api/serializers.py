from __future__ import annotations

from rest_framework import serializers


class CategoryNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    icon = serializers.CharField()
    sort_order = serializers.IntegerField()
    level = serializers.IntegerField()
    children = serializers.ListField(child=serializers.DictField())


class CategoryTreePageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = CategoryNodeSerializer(many=True)
