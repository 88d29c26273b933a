"""Money rules: land prices, compensation, support, resettlement and the rice-land conversion payment.

``settings`` reads the scenario's ``[costs]`` table; ``prices`` reads and checks the price and
coefficient tables; ``positions`` places each parcel in its unit and position (vị trí); ``households``
reads each household's whole land in the commune; ``compensation`` makes the estimate.
"""
