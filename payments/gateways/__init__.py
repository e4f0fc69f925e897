"""Gateway adapters: WeChat Pay (APIv3), Alipay, and the sandbox.

Each adapter turns our records into gateway calls and gateway answers into plain results
(:mod:`payments.gateways.base`); none of them changes the database. Services call them outside
row locks and apply their results through the one transition path.
"""

from __future__ import annotations

from payments.gateways.base import GatewayAdapter
from payments.models import Gateway, GatewayConfig


def adapter_for(config: GatewayConfig) -> GatewayAdapter:
    """The adapter serving this configuration."""
    if config.gateway == Gateway.WECHAT:
        from payments.gateways.wechat import WeChatPayAdapter

        return WeChatPayAdapter(config)
    if config.gateway == Gateway.ALIPAY:
        from payments.gateways.alipay import AlipayAdapter

        return AlipayAdapter(config)
    from payments.gateways.sandbox import SandboxAdapter

    return SandboxAdapter(config)
