/** OnApp's two body formats, parsed straight through the schemas: the same backup gives the same typed object. */
import { test } from 'vitest';
import assert from 'node:assert/strict';
import { parseXml } from '../../lib/xml';
import { jsonBackupsBody, toOnappBackup, xmlBackupsBody } from '../../activities/onapp/schemas';

// A panel in UTC+3 with a backup that has no backup server and no note, as OnApp documents the fields.
const json = JSON.stringify([
  {
    backup: {
      allow_resize_without_reboot: false,
      allowed_hot_migrate: true,
      allowed_swap: true,
      backup_server_id: null,
      backup_size: 1121652,
      backup_type: 'incremental',
      built: true,
      built_at: '2013-12-18T14:00:47+03:00',
      created_at: '2013-12-18T13:59:41+03:00',
      data_store_type: 'lvm',
      id: 698,
      identifier: 'k2p7x0aa9qmz3c',
      image_type: null,
      initiated: 'manual',
      iqn: null,
      locked: false,
      marked_for_delete: false,
      min_disk_size: 5,
      min_memory_size: 128,
      note: null,
      operating_system: 'linux',
      operating_system_distro: 'ubuntu',
      target_id: 74,
      target_type: 'VirtualMachine',
      template_id: 6,
      updated_at: '2013-12-18T14:00:47+03:00',
      user_id: 8,
      volume_id: null,
    },
  },
]);

const xml = `<?xml version="1.0" encoding="UTF-8"?>
<backups type="array">
  <backup>
    <allow_resize_without_reboot type="boolean">false</allow_resize_without_reboot>
    <allowed_hot_migrate type="boolean">true</allowed_hot_migrate>
    <allowed_swap type="boolean">true</allowed_swap>
    <backup_server_id nil="true"/>
    <backup_size type="integer">1121652</backup_size>
    <backup_type>incremental</backup_type>
    <built type="boolean">true</built>
    <built_at type="datetime">2013-12-18T11:00:47Z</built_at>
    <created_at type="datetime">2013-12-18T13:59:41+03:00</created_at>
    <data_store_type>lvm</data_store_type>
    <id type="integer">698</id>
    <identifier>k2p7x0aa9qmz3c</identifier>
    <image_type nil="true"/>
    <initiated>manual</initiated>
    <iqn nil="true"/>
    <locked type="boolean">false</locked>
    <marked_for_delete type="boolean">false</marked_for_delete>
    <min_disk_size type="integer">5</min_disk_size>
    <min_memory_size type="integer">128</min_memory_size>
    <note nil="true"/>
    <operating_system>linux</operating_system>
    <operating_system_distro>ubuntu</operating_system_distro>
    <target_id type="integer">74</target_id>
    <target_type>VirtualMachine</target_type>
    <template_id type="integer">6</template_id>
    <updated_at type="datetime">2013-12-18T14:00:47+03:00</updated_at>
    <user_id type="integer">8</user_id>
    <volume_id nil="true"/>
  </backup>
</backups>`;

test('the same backup in JSON and in typed XML (nil fields, UTC offsets) gives deep-equal typed objects', () => {
  const fromJson = jsonBackupsBody.parse(JSON.parse(json)).map((b) => toOnappBackup(b.backup));
  const fromXml = xmlBackupsBody.parse(parseXml(xml)).backups.map(toOnappBackup);
  assert.deepEqual(fromXml, fromJson);
  const [b] = fromJson;
  assert.equal(b!.builtAt, '2013-12-18T11:00:47.000Z', 'dates are normalised to UTC');
  assert.equal(b!.backupServerId, null);
  assert.equal(b!.diskId, null, 'a field the body leaves out is null too');
  assert.equal(b!.backupSizeKb, 1121652);
});

test('a wrongly typed XML field is named in the error', () => {
  const bad = xml.replace('<id type="integer">698</id>', '<id type="integer">six</id>');
  const result = xmlBackupsBody.safeParse(parseXml(bad));
  assert.equal(result.success, false);
  assert.match(JSON.stringify(result.error!.issues.map((i) => i.path)), /"backups",0,"id"/);
});
