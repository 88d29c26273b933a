<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28.0-Firenze" styleCategories="AllStyleCategories" labelsEnabled="0" hasScaleBasedVisibilityFlag="0" minScale="100000000" maxScale="0" readOnly="0">
  <renderer-v2 type="categorizedSymbol" attr="project" forceraster="0" symbollevels="0" enableorderby="0" referencescale="-1">
    <categories>
      <category value="vanh_dai_tay" symbol="0" label="Đường Vành đai phía Tây" render="true" />
      <category value="dt921" symbol="1" label="Đường tỉnh 921" render="true" />
      <category value="cao_toc_ct_cm" symbol="2" label="Cao tốc Cần Thơ – Cà Mau (đoạn đầu)" render="true" />
      <category value="trung_tam_nong_nghiep" symbol="3" label="Trung tâm liên kết, sản xuất, chế biến và tiêu thụ sản phẩm nông nghiệp vùng ĐBSCL" render="true" />
      <category value="" symbol="4" label="Dự án khác" render="true" />
    </categories>
    <symbols>
      <symbol type="fill" name="0" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="color" value="192,57,43,0" />
            <Option type="QString" name="joinstyle" value="bevel" />
            <Option type="QString" name="offset" value="0,0" />
            <Option type="QString" name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="offset_unit" value="MM" />
            <Option type="QString" name="outline_color" value="192,57,43,255" />
            <Option type="QString" name="outline_style" value="solid" />
            <Option type="QString" name="outline_width" value="0.8" />
            <Option type="QString" name="outline_width_unit" value="MM" />
            <Option type="QString" name="style" value="no" />
          </Option>
          <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="color" v="192,57,43,0" />
          <prop k="joinstyle" v="bevel" />
          <prop k="offset" v="0,0" />
          <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="offset_unit" v="MM" />
          <prop k="outline_color" v="192,57,43,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.8" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
      <symbol type="fill" name="1" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="color" value="142,68,173,0" />
            <Option type="QString" name="joinstyle" value="bevel" />
            <Option type="QString" name="offset" value="0,0" />
            <Option type="QString" name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="offset_unit" value="MM" />
            <Option type="QString" name="outline_color" value="142,68,173,255" />
            <Option type="QString" name="outline_style" value="solid" />
            <Option type="QString" name="outline_width" value="0.8" />
            <Option type="QString" name="outline_width_unit" value="MM" />
            <Option type="QString" name="style" value="no" />
          </Option>
          <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="color" v="142,68,173,0" />
          <prop k="joinstyle" v="bevel" />
          <prop k="offset" v="0,0" />
          <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="offset_unit" v="MM" />
          <prop k="outline_color" v="142,68,173,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.8" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
      <symbol type="fill" name="2" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="color" value="211,84,0,0" />
            <Option type="QString" name="joinstyle" value="bevel" />
            <Option type="QString" name="offset" value="0,0" />
            <Option type="QString" name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="offset_unit" value="MM" />
            <Option type="QString" name="outline_color" value="211,84,0,255" />
            <Option type="QString" name="outline_style" value="solid" />
            <Option type="QString" name="outline_width" value="0.8" />
            <Option type="QString" name="outline_width_unit" value="MM" />
            <Option type="QString" name="style" value="no" />
          </Option>
          <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="color" v="211,84,0,0" />
          <prop k="joinstyle" v="bevel" />
          <prop k="offset" v="0,0" />
          <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="offset_unit" v="MM" />
          <prop k="outline_color" v="211,84,0,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.8" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
      <symbol type="fill" name="3" alpha="1" clip_to_extent="1" force_rhr="0">
        <layer class="SimpleFill" enabled="1" locked="0" pass="0">
          <Option type="Map">
            <Option type="QString" name="border_width_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="color" value="30,132,73,0" />
            <Option type="QString" name="joinstyle" value="bevel" />
            <Option type="QString" name="offset" value="0,0" />
            <Option type="QString" name="offset_map_unit_scale" value="3x:0,0,0,0,0,0" />
            <Option type="QString" name="offset_unit" value="MM" />
            <Option type="QString" name="outline_color" value="30,132,73,255" />
            <Option type="QString" name="outline_style" value="solid" />
            <Option type="QString" name="outline_width" value="0.8" />
            <Option type="QString" name="outline_width_unit" value="MM" />
            <Option type="QString" name="style" value="no" />
          </Option>
          <prop k="border_width_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="color" v="30,132,73,0" />
          <prop k="joinstyle" v="bevel" />
          <prop k="offset" v="0,0" />
          <prop k="offset_map_unit_scale" v="3x:0,0,0,0,0,0" />
          <prop k="offset_unit" v="MM" />
          <prop k="outline_color" v="30,132,73,255" />
          <prop k="outline_style" v="solid" />
          <prop k="outline_width" v="0.8" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
      <symbol type="fill" name="4" alpha="1" clip_to_extent="1" force_rhr="0">
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
            <Option type="QString" name="outline_width" value="0.8" />
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
          <prop k="outline_width" v="0.8" />
          <prop k="outline_width_unit" v="MM" />
          <prop k="style" v="no" />
        </layer>
      </symbol>
    </symbols>
    <rotation />
    <sizescale />
  </renderer-v2>
  <blendMode>0</blendMode>
  <featureBlendMode>0</featureBlendMode>
  <layerOpacity>1</layerOpacity>
  <legend type="default-vector" showLabelLegend="0" />
  <layerGeometryType>2</layerGeometryType>
</qgis>
