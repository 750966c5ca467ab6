"""API of rounds and their thresholds."""

from rest_framework import mixins, serializers

from gigacity.viewsets import ScopedViewSet

from .models import Round


class RoundSerializer(serializers.ModelSerializer):
    thresholds = serializers.SerializerMethodField()

    class Meta:
        model = Round
        fields = [
            "year",
            "status",
            "notice",
            "opens_on",
            "deadline",
            "data_as_of",
            "published_on",
            "thresholds",
            "threshold_version",
            "thresholds_provisional",
        ]

    def get_thresholds(self, round_: Round) -> dict[str, str]:
        return {t.indicator_id: str(t.value) for t in round_.thresholds.all()}


class RoundViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Evaluation rounds by year, with their current thresholds. Rounds still being prepared are
    visible to ministry staff only."""

    serializer_class = RoundSerializer
    queryset = Round.objects.prefetch_related("thresholds")
    lookup_field = "year"
    lookup_value_regex = r"\d{4}"
