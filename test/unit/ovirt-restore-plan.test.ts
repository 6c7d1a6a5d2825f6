/**
 * What a restore makes of a backup before it touches the engine: the boot disk and each disk's
 * allocation from the OVF, the disks asked for, and the names of what it creates.
 */
import { expect, test } from 'vitest';
import { derivedVmName, ovfBootDisk, ovfDisks, planDisks, restoredDiskName } from '../../workflows/ovirt-restore-plan';
import { restoreBackupFixture } from '../helpers/stub-activities';

/** Two disks as the engine exports them, the second booting by its device's BootOrder. */
const ENGINE_OVF = `<ovf:Envelope>
  <Section xsi:type="ovf:DiskSection_Type">
    <Disk ovf:diskId="img-a" ovf:fileRef="disk-a/img-a" ovf:volume-format="RAW" ovf:volume-type="Sparse" ovf:disk-alias="db_data"></Disk>
    <Disk ovf:diskId="img-b" ovf:fileRef="disk-b/img-b" ovf:volume-format="COW" ovf:volume-type="Sparse" ovf:disk-alias="db_os"></Disk>
  </Section>
  <Section xsi:type="ovf:VirtualHardwareSection_Type">
    <Item><rasd:ResourceType>17</rasd:ResourceType><DeviceId>disk-a</DeviceId><BootOrder>0</BootOrder></Item>
    <Item><rasd:ResourceType>17</rasd:ResourceType><DeviceId>disk-b</DeviceId><BootOrder>1</BootOrder></Item>
  </Section>
</ovf:Envelope>`;

test('the OVF names each disk by its disk id, with its format and allocation; the boot disk by ovf:boot, else by BootOrder, else the first', () => {
  const disks = ovfDisks(ENGINE_OVF);
  expect(disks).toEqual([
    { diskId: 'disk-a', format: 'raw', sparse: true, boot: false, bootOrder: undefined },
    { diskId: 'disk-b', format: 'cow', sparse: true, boot: false, bootOrder: 1 },
  ]);
  expect(ovfBootDisk(disks)).toBe('disk-b');
  expect(ovfBootDisk(ovfDisks(restoreBackupFixture().ovf))).toBe('d2');
  expect(ovfBootDisk(ovfDisks(ENGINE_OVF.replace(/<BootOrder>1</, '<BootOrder>0<')))).toBe('disk-a');
  expect(ovfBootDisk([])).toBeUndefined();
});

test('the disks to restore: all or the ones asked for, in the backup order; an id the backup does not hold is named', () => {
  const found = restoreBackupFixture() as never;
  const all = planDisks(found);
  expect('plan' in all && all.plan.map((d) => [d.sourceDiskId, d.format, d.sparse, d.bootable])).toEqual([
    ['d1', 'cow', true, false],
    ['d2', 'raw', false, true],
  ]);
  const some = planDisks(found, ['d2']);
  expect('plan' in some && some.plan.map((d) => d.sourceDiskId)).toEqual(['d2']);
  expect(planDisks(found, ['d2', 'x', 'y'])).toEqual({ unknown: ['x', 'y'] });
});

test('names: <vm>-restored-<yyyymmdd-hhmm> within 64 characters, disks <target>_<disk> without the source VM prefix', () => {
  expect(derivedVmName('web-01', 'restored', '2026-12-06T18:05:09.123Z')).toBe('web-01-restored-20261206-1805');
  expect(derivedVmName('web 01/prod', 'drill', '2026-12-06T18:05:09.123Z')).toBe('web_01_prod-drill-20261206-1805');
  const long = derivedVmName('x'.repeat(100), 'restored', '2026-12-06T18:05:09.123Z');
  expect(long).toHaveLength(64);
  expect(long.endsWith('-restored-20261206-1805')).toBe(true);
  expect(restoredDiskName('web-01-restored-20261206-1805', 'web-01', 'web-01_Disk1')).toBe('web-01-restored-20261206-1805_Disk1');
  expect(restoredDiskName('t', 'web-01', 'data')).toBe('t_data');
});
