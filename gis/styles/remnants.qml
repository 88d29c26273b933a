<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0-Firenze" styleCategories="AllStyleCategories" labelsEnabled="0" hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0" readOnly="0">
  <renderer-v2 type="RuleRenderer" forceraster="0" symbollevels="0" enableorderby="0" referencescale="-1">
    <rules key="{landplan-remnants}">
      <rule key="{landplan-piece-below-minimum}" symbol="0" label="Phần còn lại dưới mức tối thiểu" filter="&quot;flag&quot; &lt;&gt; ''" />
      <rule key="{landplan-piece-ok}" symbol="1" label="Phần còn lại đủ điều kiện" filter="ELSE" />
    </rules>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="color" value="184,15,10,255" />
            <Option type="QString" name="joinstyle" value="bevel" />
            <Option type="QString" name="offset" value="0,0" />
            <Option type="QString" name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="offset_unit" value="MM" />
            <Option type="QString" name="outline_color" value="184,15,10,255" />
            <Option type="QString" name="outline_style" value="solid" />
            <Option type="QString" name="outline_width" value="0.6" />
            <Option type="QString" name="outline_width_unit" value="MM" />
            <Option type="QString" name="style" value="solid" />
          </Option>
          <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="color" v="184,15,10,255" />
          <prop k="joinstyle" v="bevel" />
          <prop k="offset" v="0,0" />
          <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="offset_unit" v="MM" />
          <prop k="outline_color" v="184,15,10,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.6" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="solid" />
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="color" value="95,107,109,0" />
            <Option type="QString" name="joinstyle" value="bevel" />
            <Option type="QString" name="offset" value="0,0" />
            <Option type="QString" name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="offset_unit" value="MM" />
            <Option type="QString" name="outline_color" value="95,107,109,255" />
            <Option type="QString" name="outline_style" value="solid" />
            <Option type="QString" name="outline_width" value="0.26" />
            <Option type="QString" name="outline_width_unit" value="MM" />
            <Option type="QString" name="style" value="no" />
          </Option>
          <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="color" v="95,107,109,0" />
          <prop k="joinstyle" v="bevel" />
          <prop k="offset" v="0,0" />
          <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="offset_unit" v="MM" />
          <prop k="outline_color" v="95,107,109,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.26" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
    </symbols>
  </renderer-v2>
  <blendMode>0</blendMode>
  <featureBlendMode>0</featureBlendMode>
  <layerOpacity>1</layerOpacity>
  <legend type="default-vector" showLabelLegend="0" />
  <layerGeometryType>2</layerGeometryType>
</qgis>
