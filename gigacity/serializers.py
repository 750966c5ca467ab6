from rest_framework import serializers

from .models import City


class CitySerializer(serializers.ModelSerializer):
    province_name = serializers.CharField(source="province.name", read_only=True)
    region = serializers.CharField(source="province.region", read_only=True)

    class Meta:
        model = City
        fields = ["code", "name", "kind", "province", "province_name", "region"]
