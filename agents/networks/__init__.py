"""The networks: MLP and Nature-CNN bodies, actor and critic heads, one action distribution per action space."""
