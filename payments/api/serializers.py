from __future__ import annotations

from rest_framework import serializers

from payments.models import Gateway


class PayInputSerializer(serializers.Serializer):
    gateway = serializers.ChoiceField(choices=Gateway.values)


class WeChatPayParamsSerializer(serializers.Serializer):
    appId = serializers.CharField()
    timeStamp = serializers.CharField()
    nonceStr = serializers.CharField()
    package = serializers.CharField()
    signType = serializers.CharField()
    paySign = serializers.CharField()


class PayOutputSerializer(serializers.Serializer):
    gateway = serializers.ChoiceField(choices=Gateway.values)
    params = WeChatPayParamsSerializer(
        required=False, help_text="wechat and sandbox: the arguments of wx.requestPayment"
    )
    trade_no = serializers.CharField(
        required=False, help_text="alipay (and sandbox): the trade_no of my.tradePay"
    )
    out_trade_no = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    sandbox = serializers.BooleanField(required=False)


class SandboxCompleteOutputSerializer(serializers.Serializer):
    out_trade_no = serializers.CharField()
    status = serializers.CharField()
    purpose_accepted = serializers.BooleanField(allow_null=True)


class PayoutConfirmationSerializer(serializers.Serializer):
    mchId = serializers.CharField()
    appId = serializers.CharField()
    package = serializers.CharField()


class PayoutOutputSerializer(serializers.Serializer):
    out_bill_no = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    status = serializers.CharField()
    reference = serializers.CharField()
    fail_reason = serializers.CharField()
    confirmation = PayoutConfirmationSerializer(
        allow_null=True,
        help_text="while the status is waiting_confirmation: the arguments of "
        "wx.requestMerchantTransfer (the member confirms receipt in the mini program)",
    )


class CardPurchaseOutputSerializer(PayOutputSerializer):
    """The pay params of ``POST /orders/{number}/pay``, plus the purchase."""

    reference = serializers.CharField(help_text='the purchase, "card:<id>"')
    purchase_status = serializers.CharField()
    expires_at = serializers.DateTimeField(help_text="unpaid after this: cancelled")
