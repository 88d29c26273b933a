"""Money rules: land prices, compensation, support, resettlement and the rice-land conversion payment.

``settings`` reads the scenario's ``[costs]`` table; ``prices`` reads and checks the price and
coefficient tables; ``positions`` places each parcel in its unit and position (vị trí); ``holdings``
reads each household's whole land (every parcel of the affected owners, by attribute); ``households``
sums it per household and scope; ``compensation`` makes the estimate.
"""
